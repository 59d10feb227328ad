"""The Hessian density reads the bulk (issue 15): smoothing and bins follow the bulk's spread, not
the outliers' span; outliers keep their mass in a wider last bin; the raw quadrature is kept; the
density pane draws the bulk on a log axis and names the outliers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from plastilab.core.events import Histogram, Matrix
from plastilab.instruments.hessian_spectrum import HessianSpectrum, Quadrature
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP
from plastilab.tui.widgets.eigenvalue_histogram import bulk_of


def bulk_and_outliers() -> Quadrature:
    """Four chains: a bulk of width ~0.04 around zero holding all but 0.02% of the mass, and two
    outliers at 5 and 12 (the shape of a trained network's spectrum)."""
    rng = np.random.default_rng(0)
    bulk = np.sort(rng.normal(0.0, 0.01, (4, 28)), axis=1)
    nodes = np.concatenate([bulk, np.full((4, 1), 5.0), np.full((4, 1), 12.0)], axis=1)
    weights = np.concatenate([np.full((4, 28), (1 - 2e-4) / 28), np.full((4, 2), 1e-4)], axis=1)
    return Quadrature(nodes, weights)


def test_bins_and_smoothing_follow_the_bulk_and_the_outliers_keep_their_mass():
    quadrature = bulk_and_outliers()
    fractions, edges = quadrature.density(sigma=0.005, n_bins=200)
    assert fractions.shape == (200,) and fractions.sum() == pytest.approx(1.0)
    assert np.all(np.diff(edges) > 0) and edges[0] < quadrature.nodes.min() and edges[-1] > 12.0
    low, high = quadrature.bulk()
    assert -0.05 < low < 0 < high < 0.05
    widths = np.diff(edges)
    assert np.allclose(widths[:-1], widths[0])  # equal bins on the bulk, one wide bin for the outliers
    assert widths[0] < (high - low) / 100 and widths[-1] > 10
    assert fractions[-1] == pytest.approx(2e-4, rel=1e-2)  # the outliers (and the bulk's far tails)
    x, density, outside, span = bulk_of(fractions, edges)
    assert outside == pytest.approx(2e-4, rel=1e-2) and span[1] > 12.0
    assert x.min() < low and x.max() > high and x.max() < 0.1
    assert (density * widths[0]).sum() == pytest.approx(1 - 2e-4, rel=1e-5)


def test_a_small_spectrum_is_all_bulk_and_smoothed_more_faithfully_than_by_the_old_span_rule():
    torch.manual_seed(0)
    model = MLP(4, [6, 5], 3).double()
    inputs, labels = torch.randn(16, 4, dtype=torch.float64), torch.randint(0, 3, (16,))
    spectrum = HessianSpectrum(model, F.cross_entropy, (inputs, labels))
    quadrature = spectrum.lanczos(8, starts=torch.eye(spectrum.n_params, dtype=torch.float64))
    _, edges = quadrature.density()
    assert np.allclose(np.diff(edges), np.diff(edges)[0])  # no outliers: equal bins throughout
    # Mass within 1% of the span around zero: exact (a full basis of starts makes the quadrature
    # exact), smoothed at the default width, and at the old default (1% of the span).
    span = quadrature.nodes.max() - quadrature.nodes.min()
    t = 0.01 * span
    exact = float((quadrature.weights * (np.abs(quadrature.nodes) <= t)).sum(axis=1).mean())

    def smoothed(width):
        z = (np.array([-t, t])[None, None, :] - quadrature.nodes[..., None]) / width
        cdf = torch.special.ndtr(torch.from_numpy(z)).numpy()
        return float((quadrature.weights * (cdf[..., 1] - cdf[..., 0])).sum(axis=1).mean())

    old = 0.01 * max(span, abs(quadrature.nodes.max()), abs(quadrature.nodes.min()))
    assert abs(smoothed(quadrature.smoothing_width(0.005)) - exact) < abs(smoothed(old) - exact)


def test_the_suite_keeps_the_raw_quadrature_and_the_smallest_eigenvalues_when_asked():
    config = InstrumentsConfig.model_validate(
        {"hessian": {"every": 1, "n_examples": 16, "lanczos_iterations": 6, "n_starts": 3, "top_k": 2,
                     "smallest_k": 2, "trace_samples": 0, "n_bins": 20}}
    )
    torch.manual_seed(0)
    model = MLP(6, [8], 3)
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    events = InstrumentSuite(config).measure(1, "s", model, loss_fn=F.cross_entropy, batch=(x, y))
    values = events[0].values
    assert values["hessian/smallest_eigenvalue"] <= values["hessian/smallest_eigenvalue_2"] <= values["hessian/top_eigenvalue"]
    raw = next(e for e in events if isinstance(e, Matrix) and e.tag == "hessian/quadrature")
    assert raw.values.shape == (6, 6) and raw.labels[0] == "nodes 0" and raw.labels[3] == "weights 0"
    np.testing.assert_allclose(raw.values[3:].sum(axis=1), 1.0)
    redone = Quadrature(raw.values[:3], raw.values[3:]).density(config.hessian.sigma, config.hessian.n_bins)
    histogram = next(e for e in events if isinstance(e, Histogram))
    np.testing.assert_allclose(redone[0], histogram.counts)
    np.testing.assert_allclose(redone[1], histogram.edges)


def test_smallest_k_above_the_iterations_names_the_key():
    with pytest.raises(ValueError, match="lanczos_iterations"):
        InstrumentsConfig.model_validate({"hessian": {"lanczos_iterations": 4, "smallest_k": 5}})
