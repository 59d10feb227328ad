"""The vectorised plotext helpers draw exactly the figures plotext draws."""

from __future__ import annotations

import numpy as np
import pytest
from textual_plotext.plot import Plot

from plastilab.tui.widgets.plotext_speedups import faster_plotext


def figure(seed: int, width: int, height: int, marker: str, log_y: bool) -> Plot:
    rng = np.random.default_rng(seed)
    plot = Plot()
    plot.plotsize(width, height)
    plot._set_size(width, height)
    for k in range(int(rng.integers(1, 6))):
        n = int(rng.integers(2, 400))
        x = np.sort(rng.uniform(0, 1e5, n))
        y = np.abs(rng.normal(size=n)).cumsum() * rng.uniform(0.01, 100) + 1e-3
        if log_y:
            y = np.log10(y)
        plot.plot(x.tolist(), y.tolist(), marker=marker, color=(40 * k, 100, 200 - 30 * k))
    for step in rng.uniform(0, 1e5, int(rng.integers(0, 8))):
        plot.vline(float(step), color=(140, 140, 140))
    plot.bar([1.0, 2.0], [3.0, 4.0]) if seed % 7 == 0 else None
    return plot


def cells(plot: Plot) -> tuple:
    plot._set_sizes()
    plot._build_matrix()
    m = plot.monitor.matrix
    return m.marker, m.fullground, m.background, m.style


@pytest.mark.parametrize("seed", range(24))
def test_figures_are_identical(seed):
    rng = np.random.default_rng(1000 + seed)
    width, height = int(rng.integers(20, 180)), int(rng.integers(5, 60))
    marker = ["braille", "hd", "fhd", "dot"][seed % 4]
    expected = cells(figure(seed, width, height, marker, seed % 3 == 0))
    with faster_plotext():
        got = cells(figure(seed, width, height, marker, seed % 3 == 0))
    assert got == expected


def test_missing_values_fall_back_to_plotext():
    def build():
        plot = Plot()
        plot.plotsize(60, 15)
        plot._set_size(60, 15)
        plot.plot([0, 1, 2, 3, 4], [1.0, None, 3.0, float("nan"), 2.0], marker="braille")
        return cells(plot)

    expected = build()
    with faster_plotext():
        assert build() == expected
