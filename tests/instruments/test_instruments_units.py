"""Unit and rank statistics on hand-built networks whose answers are worked out by hand."""

import math
from collections import OrderedDict

import pytest
import torch
from torch import nn

from plastilab.instruments.rank import effective_rank, singular_values, stable_rank
from plastilab.instruments.unit_stats import dead_units, dormant_units, record_activity, unit_statistics

INPUTS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def hand_built() -> nn.Module:
    """fc1 -> ReLU -> fc2 -> Tanh with chosen weights.

    On INPUTS the ReLU pre-activations are, per unit: (1, 1, 2), (-1, -1, -2) dead, (1, -1, 0),
    (-.5, -.5, -.5) dead. The tanh units see (10, 10, 20) - saturated - and (1, 0, 0).
    """
    fc1, fc2 = nn.Linear(2, 4), nn.Linear(4, 2)
    with torch.no_grad():
        fc1.weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [0.0, 0.0]]))
        fc1.bias.copy_(torch.tensor([0.0, 0.0, 0.0, -0.5]))
        fc2.weight.copy_(torch.tensor([[10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]))
        fc2.bias.zero_()
    return nn.Sequential(OrderedDict(fc1=fc1, act1=nn.ReLU(), fc2=fc2, act2=nn.Tanh()))


def test_dead_dormant_and_saturated_units_of_a_hand_built_network():
    layers = record_activity(hand_built(), INPUTS)
    assert [layer.name for layer in layers] == ["act1", "act2"]
    assert dead_units(layers[0]).tolist() == [False, True, False, True]
    assert dead_units(layers[1]) is None  # not a ReLU-like layer
    # ReDo scores: mean |h| = (4/3, 0, 1/3, 0), layer mean 5/12 -> (3.2, 0, 0.8, 0).
    assert dormant_units(layers[0], 0.85).tolist() == [False, True, True, True]
    assert dormant_units(layers[0], 0.5).tolist() == [False, True, False, True]

    stats = unit_statistics(layers, dormant_threshold=0.5)
    assert stats["units/dead_fraction/act1"] == 0.5
    assert stats["units/dead_fraction"] == 0.5  # ReLU units only
    assert stats["units/saturated_fraction/act2"] == 0.5
    assert stats["units/saturated_fraction"] == 0.5  # tanh units only
    assert "units/saturated_fraction/act1" not in stats
    assert stats["units/dormant_fraction/act1"] == 0.5
    assert stats["units/preact_mean/act1"] == pytest.approx(-1.5 / 12)
    pre1 = torch.tensor([1, 1, 2, -1, -1, -2, 1, -1, 0, -0.5, -0.5, -0.5])
    assert stats["units/preact_std/act1"] == pytest.approx(float(pre1.std(unbiased=False)))
    everything = torch.cat([pre1, torch.tensor([10.0, 10, 20, 1, 0, 0])])
    assert stats["units/preact_mean"] == pytest.approx(float(everything.mean()))
    assert stats["units/preact_std"] == pytest.approx(float(everything.std(unbiased=False)))


def test_ranks_of_known_singular_values():
    u, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    features = u[:, :2] @ torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64)) @ v[:, :2].T  # rank 2
    assert stable_rank(features) == 2
    assert effective_rank(features) == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))
    assert effective_rank(torch.eye(4)) == pytest.approx(4.0)
    assert stable_rank(torch.eye(100)) == 99  # 99 of 100 equal values reach 99% of the sum
    assert effective_rank(torch.zeros(3, 3)) == 0.0 and stable_rank(torch.zeros(3, 3)) == 0


@pytest.mark.parametrize("shape", [(500, 7), (7, 500), (6, 6)])
def test_singular_values_through_the_gram_matrix_match_an_svd(shape):
    matrix = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    matrix = matrix * torch.linspace(1.0, 8.0, shape[1])  # spread the singular values
    torch.testing.assert_close(singular_values(matrix), torch.linalg.svdvals(matrix.double()), rtol=1e-9, atol=1e-9)


def test_feature_rank_of_the_last_layer_through_hooks():
    # Positive inputs and weights keep every ReLU open, so the 6 features span the 2 input directions.
    fc = nn.Linear(2, 6)
    with torch.no_grad():
        fc.weight.copy_(torch.rand(6, 2) + 0.1)
        fc.bias.zero_()
    model = nn.Sequential(OrderedDict(fc=fc, act=nn.ReLU()))
    stats = unit_statistics(record_activity(model, torch.rand(20, 2) + 0.1))
    assert stats["features/stable_rank"] == 2 == stats["features/stable_rank/act"]
    assert 1.0 < stats["features/effective_rank"] <= 2.0


def test_conv_channels_are_units_and_gelu_counts_as_relu_like():
    conv = nn.Conv2d(1, 3, 3, padding=1)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor([-1.0, 1.0, -0.1]))  # channels 0 and 2 never open
    model = nn.Sequential(OrderedDict(conv=conv, act=nn.GELU()))
    (layer,) = record_activity(model, torch.randn(2, 1, 4, 4))
    assert layer.units == 3 and layer.acts.shape[0] == 2 * 16
    assert dead_units(layer).tolist() == [True, False, True]


def test_a_module_called_twice_is_two_layers():
    act = nn.ReLU()
    model = nn.Sequential(OrderedDict(fc1=nn.Linear(2, 3), act=act, fc2=nn.Linear(3, 3), again=act))
    assert [layer.name for layer in record_activity(model, torch.randn(4, 2))] == ["act", "act#2"]


def test_recording_leaves_hooks_buffers_mode_and_rng_alone():
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5))
    running, inputs = model[1].running_mean.clone(), torch.randn(8, 2)
    state = torch.get_rng_state()
    record_activity(model, inputs)
    assert torch.equal(model[1].running_mean, running) and model.training
    assert torch.equal(torch.get_rng_state(), state)
    assert not any(m._forward_hooks for m in model.modules())
