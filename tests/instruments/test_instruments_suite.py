"""The suite: runs what is due, emits the contracted tags, keeps state per series."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from plastilab.core.events import Curve, Histogram, Log, Matrix, Scalars
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP

CONFIG = {
    "stats": {"every": 2, "n_examples": 32},
    "probe": {"every": 4, "probe_steps": 5, "n_targets": 2, "n_examples": 32, "batch_size": 8},
    "hessian": {"every": 4, "n_examples": 16, "lanczos_iterations": 6, "n_starts": 2, "top_k": 2},
    "covariance": {"every": 4, "n_examples": 8},
}
CONFIG["hessian"] |= {"trace_samples": 4, "n_bins": 10}
STATS_TAGS = {
    "units/saturated_fraction", "units/dormant_fraction", "units/preact_mean", "units/preact_std",
    "features/effective_rank", "features/stable_rank", "weights/norm", "weights/distance_from_init",
    "grads/norm", "updates/ratio",
}  # fmt: skip
HEAVY_TAGS = {
    "probe/final_loss", "probe/plasticity_loss", "probe/plasticity_loss_raw", "probe/initial_loss",
    "probe/final_loss_scaled", "probe/initial_loss_scaled", "hessian/top_eigenvalue", "hessian/eigenvalue_2",
    "hessian/trace", "gradients/mean_similarity", "gradients/within_class_similarity",
    "gradients/across_class_similarity",
}  # fmt: skip


def train(steps: int, suite: InstrumentSuite, series: str = "adam"):
    torch.manual_seed(0)
    model = MLP(6, [8, 8], 3, activation="tanh")
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    events = suite.start(series, model)
    for step in range(1, steps + 1):
        suite.before_step(step, series, model)
        optimiser.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimiser.step()
        events += suite.measure(step, series, model, loss_fn=F.cross_entropy, batch=(x, y), labels=y)
    return model, events


def test_due_follows_every():
    suite = InstrumentSuite(InstrumentsConfig.model_validate(CONFIG), torch.randn(32, 6))
    assert suite.due(1) == set()
    assert suite.due(2) == {"stats"}
    assert suite.due(4) == {"stats", "probe", "hessian", "covariance"}
    assert InstrumentSuite(InstrumentsConfig.model_validate({"stats": {"every": 0}})).due(10) == set()


def test_events_carry_the_contracted_tags():
    suite = InstrumentSuite(InstrumentsConfig.model_validate(CONFIG), torch.randn(32, 6), seed=1)
    _, events = train(4, suite)
    scalars = [e for e in events if isinstance(e, Scalars)]
    assert [e.step for e in scalars] == [0, 2, 4]
    baseline = scalars.pop(0).values  # from start(): the probe at θ_0
    probe_tags = {f"probe/{name}" for name in ("final_loss", "initial_loss", "final_loss_scaled", "initial_loss_scaled")}
    assert set(baseline) == probe_tags | {"probe/plasticity_loss", "probe/plasticity_loss_raw"}
    assert baseline["probe/plasticity_loss"] == baseline["probe/plasticity_loss_raw"] == 0.0
    assert STATS_TAGS <= set(scalars[0].values)
    assert "units/dead_fraction" not in scalars[0].values  # a tanh network has no dead units
    assert not HEAVY_TAGS & set(scalars[0].values)
    last = scalars[1].values
    assert STATS_TAGS | HEAVY_TAGS <= set(last)
    per_layer = {"weights/norm/fc1", "weights/norm/head", "units/saturated_fraction/act1", "updates/ratio/fc2"}
    assert per_layer | {"features/stable_rank/act2", "grads/norm/head"} <= set(last)
    assert all(np.isfinite(v) for v in last.values())
    assert last["hessian/top_eigenvalue"] >= last["hessian/eigenvalue_2"]

    arrays = {type(e): e for e in events if not isinstance(e, Scalars) and e.step == 4}
    assert arrays[Histogram].tag == "hessian/density" and len(arrays[Histogram].edges) == 11
    assert arrays[Matrix].tag == "gradients/covariance" and arrays[Matrix].values.shape == (8, 8)
    assert list(arrays[Matrix].labels) == sorted(arrays[Matrix].labels)
    assert arrays[Curve].tag == "probe/curve" and len(arrays[Curve].y) == 5
    assert all(e.series == "adam" for e in events if not isinstance(e, Log))  # logs: the product timings


def test_update_ratio_is_the_last_steps_update():
    suite = InstrumentSuite(InstrumentsConfig.model_validate({"stats": {"every": 2}}))
    torch.manual_seed(0)
    model = MLP(6, [8], 3)
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    suite.start("s", model)
    suite.before_step(2, "s", model)
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.1)
    (event,) = suite.measure(2, "s", model, loss_fn=F.cross_entropy, batch=(x, y))
    assert event.values["updates/ratio"] == pytest.approx(0.1, rel=1e-5)
    norm = float(torch.cat([b.flatten() for b in before]).norm())
    assert event.values["weights/distance_from_init"] == pytest.approx(0.1 * norm, rel=1e-5)
    assert "grads/norm" in event.values  # no .grad left: computed fresh on the batch
    assert all(p.grad is None for p in model.parameters())


def test_non_finite_parameters_skip_the_heavy_instruments_with_a_warning():
    suite = InstrumentSuite(InstrumentsConfig.model_validate(CONFIG), torch.randn(32, 6))
    model = MLP(6, [8, 8], 3)
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    events = suite.measure(4, "s", model, loss_fn=F.cross_entropy, batch=(x, y), labels=y)
    assert [type(e) for e in events] == [Scalars, Log]
    assert "not finite" in events[1].message


def test_probe_needs_inputs():
    with pytest.raises(ValueError, match="probe_inputs"):
        InstrumentSuite(InstrumentsConfig.model_validate({"probe": {}}))


def test_a_batch_sorted_by_label_gives_the_covariance_every_label():
    # The Adam scenario hands over its images sorted by label; the first 8 would all be class 0.
    suite = InstrumentSuite(InstrumentsConfig.model_validate({"covariance": {"every": 1, "n_examples": 8}}))
    torch.manual_seed(0)
    model = MLP(6, [8], 4)
    y = torch.arange(4).repeat_interleave(8)  # 32 examples, 8 of each of 4 classes, in order
    x = torch.randn(32, 6)
    scalars, matrix = suite.measure(1, "s", model, loss_fn=F.cross_entropy, batch=(x, y), labels=y)
    assert list(matrix.labels) == ["0", "0", "1", "1", "2", "2", "3", "3"]
    assert "gradients/across_class_similarity" in scalars.values


def test_series_starting_from_the_same_network_share_one_baseline_probe(monkeypatch):
    probe_only = InstrumentsConfig.model_validate({"probe": CONFIG["probe"]})
    suite = InstrumentSuite(probe_only, torch.randn(32, 6), seed=1)
    calls = []
    measure = suite.instrument("probe").probe.measure
    monkeypatch.setattr(suite.instrument("probe").probe, "measure", lambda model: calls.append(1) or measure(model))

    def network(activation="relu"):
        torch.manual_seed(0)
        return MLP(6, [8, 8], 3, activation=activation)

    first = suite.start("a", network())
    second = suite.start("b", network())  # another object, the same θ_0
    assert len(calls) == 1
    assert first[0].values == second[0].values and [e.series for e in second] == ["b", "b", "b"]
    np.testing.assert_array_equal(first[1].y, second[1].y)  # probe/curve
    np.testing.assert_array_equal(first[2].values, second[2].values)  # probe/target_curves
    tanh = network("tanh")
    assert all(torch.equal(p, q) for p, q in zip(tanh.parameters(), network().parameters()))
    suite.start("c", tanh)  # the same parameters in another network: probed anew
    assert len(calls) == 2
    assert suite.measure(4, "b", network())[0].values["probe/plasticity_loss"] == 0.0
