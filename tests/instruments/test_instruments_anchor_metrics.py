"""The other codebases' metric definitions, each against a direct numpy computation of what they
publish, and beside plastilab's own on one network (they must differ where the anchors say)."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from plastilab.instruments.anchor_metrics import (
    active_fraction,
    approximate_rank,
    feature_norm,
    feature_variance_across_samples,
    feature_variance_across_units,
    rarely_active_mask,
)
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.suite import InstrumentSuite
from plastilab.instruments.unit_stats import record_activity, unit_statistics
from plastilab.instruments.weight_stats import rms_change, weight_magnitudes


def random_acts(seed=0, shape=(50, 12)):
    gen = np.random.default_rng(seed)
    a = gen.normal(size=shape)
    a[:, :3] = 0  # three silent units
    a[0, 3] = 1.0  # unit 3 fires on one sample of 50 (2%): not rare at 1%
    a[1:, 3] = 0
    return a


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "crelu"])
def test_active_fraction_is_the_entrywise_share_of_active_values(activation):
    raw = random_acts()
    a = {"relu": np.maximum(raw, 0), "crelu": np.maximum(raw, 0), "tanh": np.tanh(3 * raw), "sigmoid": 1 / (1 + np.exp(-4 * raw))}[activation]
    expected = {
        "relu": (a > 0).mean(),
        "crelu": (a > 0).mean(),
        "tanh": (np.abs(a) <= 0.99).mean(),
        "sigmoid": ((a >= 0.01) & (a <= 0.99)).mean(),
    }[activation]
    assert active_fraction(torch.tensor(a), activation) == pytest.approx(expected, abs=1e-12)
    assert 0 < expected < 1


def test_active_fraction_is_undefined_for_other_activations():
    assert active_fraction(torch.ones(3, 2), "identity") is None


def test_rarely_active_units_fire_on_under_one_percent_of_samples():
    a = np.maximum(random_acts(), 0)
    a = np.concatenate([a, a[:1] * 0], axis=0)  # 51 samples: unit 3 now on 1.96%
    mask = rarely_active_mask(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(mask, (a != 0).mean(axis=0) < 0.01)
    assert mask[:3].all() and not mask[3]


def test_conv_positions_count_as_samples_for_the_rarely_active_share():
    a = torch.zeros(2, 3, 10, 10)
    a[0, 1, 0, 0] = 1.0  # channel 1 active at 1 of 200 positions: 0.5%
    a[:, 2] = 1.0
    assert rarely_active_mask(a).tolist() == [True, True, False]


def test_approximate_rank_counts_squared_singular_values_to_99_percent():
    gen = np.random.default_rng(1)
    for _ in range(30):
        f = gen.normal(size=(40, 15)) * gen.exponential(size=15) ** 3
        s = np.linalg.svd(f, compute_uv=False)
        share = np.cumsum(s**2) / np.sum(s**2)
        expected = int(np.argmax(share >= 0.99)) + 1
        assert approximate_rank(torch.tensor(f)) == expected
    assert approximate_rank(torch.zeros(4, 3)) == 0


def test_feature_norm_and_both_variances():
    f = np.random.default_rng(2).normal(size=(30, 7)) * np.arange(1, 8)
    t = torch.tensor(f)
    assert feature_norm(t) == pytest.approx(np.linalg.norm(f, axis=1).mean(), rel=1e-12)
    assert feature_variance_across_units(t) == pytest.approx(f.var(axis=1).mean(), rel=1e-12)
    assert feature_variance_across_samples(t) == pytest.approx(f.var(axis=0).mean(), rel=1e-12)


def two_layer_net():
    """The anchors' check: a healthy 200-unit layer, then a 10-unit layer with 5 silenced units."""
    torch.manual_seed(0)
    fc1, fc2 = nn.Linear(8, 200), nn.Linear(200, 10)
    with torch.no_grad():
        fc1.weight.abs_()
        fc1.bias.fill_(0.1)
        fc2.weight.abs_()
        fc2.bias.fill_(0.1)
        fc2.weight[:5] = 0
        fc2.bias[:5] = -1.0
    return nn.Sequential(OrderedDict(fc1=fc1, act1=nn.ReLU(), fc2=fc2, act2=nn.ReLU()))


def test_layer_mean_dormant_fraction_beside_the_pooled_one():
    x = torch.rand(64, 8)
    stats = unit_statistics(record_activity(two_layer_net(), x), dormant_threshold=0.025)
    assert stats["units/dormant_fraction"] == pytest.approx(5 / 210)  # pooled: plastilab, dopamine
    assert stats["units/dormant_fraction_layer_mean"] == pytest.approx((0 + 0.5) / 2)  # Plasticine
    assert stats["units/rarely_active_fraction"] == pytest.approx(5 / 210)
    assert stats["units/active_fraction"] == pytest.approx(0.5)  # the representation: half the entries
    net = two_layer_net()
    h = torch.relu(net.fc2(torch.relu(net.fc1(x)))).detach().numpy()
    assert stats["features/approximate_rank"] == approximate_rank(torch.tensor(h))
    assert stats["features/norm"] == pytest.approx(np.linalg.norm(h, axis=1).mean(), rel=1e-6)


def test_weight_rms_mean_abs_and_rms_change_per_layer_and_overall():
    net = two_layer_net()
    params = {n: p.detach().double().numpy() for n, p in net.named_parameters()}
    everything = np.concatenate([p.ravel() for p in params.values()])
    values = weight_magnitudes(net)
    assert values["weights/rms"] == pytest.approx(np.sqrt((everything**2).mean()), rel=1e-9)
    assert values["weights/mean_abs"] == pytest.approx(np.abs(everything).mean(), rel=1e-9)
    fc2 = np.concatenate([params["fc2.weight"].ravel(), params["fc2.bias"]])
    assert values["weights/rms/fc2"] == pytest.approx(np.sqrt((fc2**2).mean()), rel=1e-9)
    previous = {n: p.detach().clone() for n, p in net.named_parameters()}
    with torch.no_grad():
        net.fc1.weight.add_(0.5)
    change = rms_change(net, previous)
    n_total = everything.size
    assert change["weights/rms_change"] == pytest.approx(np.sqrt(0.25 * 8 * 200 / n_total), rel=1e-6)  # float32 adds
    assert change["weights/rms_change/fc2"] == 0
    assert change["weights/rms_change/fc1"] == pytest.approx(np.sqrt(0.25 * 1600 / (1600 + 200)), rel=1e-6)


def test_gradient_norm_mean_is_the_mean_over_the_steps_since_the_last_measurement():
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict(fc1=nn.Linear(3, 4), act1=nn.ReLU(), head=nn.Linear(4, 1)))
    x = torch.randn(16, 3)
    suite = InstrumentSuite(InstrumentsConfig.model_validate({"stats": {"every": 3, "n_examples": 16}}), x, 0)
    suite.start("s", net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    norms, means, changes = [], [], []
    previous = {n: p.detach().clone() for n, p in net.named_parameters()}
    for step in range(1, 7):
        suite.before_step(step, "s", net)
        optimizer.zero_grad(set_to_none=True)
        net(x * step).square().mean().backward()
        norms.append(float(torch.sqrt(sum(p.grad.double().square().sum() for p in net.parameters()))))
        optimizer.step()
        events = suite.measure(step, "s", net)
        if events:
            means.append(events[0].values["grads/norm_mean"])
            changes.append(events[0].values["weights/rms_change"])
            current = np.concatenate([p.detach().double().numpy().ravel() for p in net.parameters()])
            before = np.concatenate([t.double().numpy().ravel() for t in previous.values()])
            assert changes[-1] == pytest.approx(np.sqrt(((current - before) ** 2).mean()), rel=1e-6)
            previous = {n: p.detach().clone() for n, p in net.named_parameters()}
    assert means == pytest.approx([np.mean(norms[:3]), np.mean(norms[3:])], rel=1e-9)
    assert means[0] != pytest.approx(norms[2])  # a mean over the window, not the last step's norm
