"""Units found however a model computes its activations: modules (in place or not), functions, methods,
watched layers. Every expected number is worked out by hand on one small network.

The network (fc1 -> ReLU -> fc2 -> tanh) on INPUTS = (1, 0), (0, 1), (1, 1):

* ReLU pre-activations, one row per input: (1, -1, 1, -.5), (1, -1, -1, -.5), (2, -2, 0, -.5).
  Units 2 and 4 are never positive: dead fraction 1/2; mean -1.5/12.
  Mean |activation| per unit (4/3, 0, 1/3, 0), layer mean 5/12: ReDo scores (3.2, 0, .8, 0);
  at τ = 0.5 units 2 and 4 are dormant: 1/2.
* tanh pre-activations: unit 1 sees (10, 10, 20) - saturated - and unit 2 (1, 0, 0): saturated
  fraction 1/2; mean 41/6.
"""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from plastilab.instruments import (
    dead_fraction,
    dormant_fraction,
    dormant_scores,
    measure_units,
    record_activity,
    saturated_fraction,
)

INPUTS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
RELU_PREACTS = torch.tensor([[1.0, -1.0, 1.0, -0.5], [1.0, -1.0, -1.0, -0.5], [2.0, -2.0, 0.0, -0.5]])


def layers() -> tuple[nn.Linear, nn.Linear]:
    fc1, fc2 = nn.Linear(2, 4), nn.Linear(4, 2)
    with torch.no_grad():
        fc1.weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [0.0, 0.0]]))
        fc1.bias.copy_(torch.tensor([0.0, 0.0, 0.0, -0.5]))
        fc2.weight.copy_(torch.tensor([[10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]))
        fc2.bias.zero_()
    return fc1, fc2


def in_place_modules() -> nn.Module:
    fc1, fc2 = layers()
    return nn.Sequential(OrderedDict(fc1=fc1, act1=nn.ReLU(inplace=True), fc2=fc2, act2=nn.Tanh()))


class FunctionalNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = layers()

    def forward(self, x):
        return torch.tanh(self.fc2(F.relu(self.fc1(x), inplace=True)))


class MethodNet(FunctionalNet):
    def forward(self, x):
        return self.fc2(self.fc1(x).relu_()).tanh()


class UntraceableNet(FunctionalNet):
    def forward(self, x):
        if x.sum() > -1e9:  # data-dependent control flow: torch.fx cannot trace this
            return torch.tanh(self.fc2(F.relu(self.fc1(x))))
        return x


def assert_hand_statistics(stats: dict[str, float], relu: str, tanh: str) -> None:
    assert stats[f"units/dead_fraction/{relu}"] == 0.5
    assert stats[f"units/preact_mean/{relu}"] == pytest.approx(-1.5 / 12)
    assert stats[f"units/dormant_fraction/{relu}"] == 0.5
    assert stats[f"units/saturated_fraction/{tanh}"] == 0.5
    assert stats[f"units/preact_mean/{tanh}"] == pytest.approx(41 / 6)
    assert f"units/dead_fraction/{tanh}" not in stats and f"units/saturated_fraction/{relu}" not in stats


@pytest.mark.parametrize(
    ("model", "relu", "tanh", "options"),
    [
        (in_place_modules(), "act1", "act2", {}),  # hooks, the ReLU in place
        (in_place_modules(), "act1", "act2", {"trace": True}),  # the same modules through torch.fx
        (FunctionalNet(), "fc1.relu", "fc2.tanh", {}),  # F.relu(inplace=True), torch.tanh: torch.fx
        (MethodNet(), "fc1.relu", "fc2.tanh", {}),  # x.relu_(), x.tanh(): torch.fx
        (UntraceableNet(), "fc1", "fc2", {"watch": {"fc1": "relu", "fc2": "tanh"}}),
    ],
    ids=["in-place-module", "traced-modules", "functional", "methods", "watched"],
)
def test_every_way_of_finding_units_gives_the_hand_computed_statistics(model, relu, tanh, options):
    found = record_activity(model, INPUTS, **options)
    assert [layer.name for layer in found] == [relu, tanh]
    torch.testing.assert_close(found[0].preacts, RELU_PREACTS)  # not overwritten by the in-place ReLU
    torch.testing.assert_close(found[0].acts, RELU_PREACTS.clamp_min(0))
    assert_hand_statistics(measure_units(model, INPUTS, dormant_threshold=0.5, **options), relu, tanh)


def test_in_place_relu_on_feature_maps_keeps_the_pre_activations():
    # Channel 0 computes x, channel 1 computes -x; x > 0 everywhere, so channel 1 is dead and the
    # pre-activations average to exactly 0 (the activations to mean(x) / 2).
    conv = nn.Conv2d(1, 2, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
        conv.bias.zero_()
    model = nn.Sequential(OrderedDict(conv=conv, relu=nn.ReLU(inplace=True)))
    x = torch.rand(3, 1, 4, 4) + 0.1
    stats = measure_units(model, x)
    assert stats["units/dead_fraction"] == 0.5
    assert stats["units/preact_mean"] == pytest.approx(0.0, abs=1e-7)


def test_nothing_found_is_a_warning_naming_watch_never_a_silent_empty_result():
    with pytest.warns(UserWarning, match=r"torch\.fx could not trace it.*watch="):
        assert measure_units(UntraceableNet(), INPUTS) == {}
    with pytest.warns(UserWarning, match="no activation modules.*watch="):
        assert record_activity(FunctionalNet(), INPUTS, trace=False) == []
    with pytest.warns(UserWarning, match="found no activation function"):
        assert record_activity(nn.Linear(2, 3), INPUTS) == []


def test_watch_with_a_list_uses_one_activation_and_names_unknown_modules():
    stats = measure_units(UntraceableNet(), INPUTS, watch=["fc1"], dormant_threshold=0.5)
    assert stats["units/dead_fraction"] == 0.5 and stats["units/preact_mean"] == pytest.approx(-1.5 / 12)
    with pytest.raises(ValueError, match="no module 'fc3'; modules include: (fc1, fc2|fc2, fc1)$") as caught:
        measure_units(UntraceableNet(), INPUTS, watch=["fc3"])
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="activation 'swish' of 'fc1' unknown"):
        record_activity(UntraceableNet(), INPUTS, watch={"fc1": "swish"})


class NormedNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc, self.norm, self.drop = nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(F.relu(self.norm(self.fc(x))))


def test_tracing_leaves_running_statistics_and_the_global_random_stream_alone():
    model = NormedNet().train()
    inputs = torch.randn(8, 2)
    before = {name: b.clone() for name, b in model.named_buffers()}
    rng = torch.get_rng_state()
    (layer,) = record_activity(model, inputs)
    assert layer.name == "norm.relu"
    assert torch.equal(torch.get_rng_state(), rng)
    for name, b in model.named_buffers():
        assert torch.equal(b, before[name]), name


def test_plain_tensor_statistics():
    assert dead_fraction(torch.tensor([[1.0, -1.0], [2.0, 0.0]])) == 0.5
    acts = torch.tensor([[4.0, 0.0, 1.0, 0.0]])
    torch.testing.assert_close(dormant_scores(acts), torch.tensor([3.2, 0.0, 0.8, 0.0], dtype=torch.float64))
    assert dormant_fraction(acts, tau=0.5) == 0.5
    assert dormant_fraction(acts, tau=0.85) == 0.75
    assert dormant_fraction(torch.zeros(3, 2)) == 1.0  # a silent layer: every unit dormant
    assert saturated_fraction(torch.tensor([[0.99, 0.5], [-0.985, 0.1]])) == 0.5
    assert saturated_fraction(torch.tensor([[0.005, 0.5], [0.995, 0.5]]), "sigmoid") == 0.5
    maps = torch.zeros(2, 2, 3, 3)  # (N, C, H, W): channels are units
    maps[1, 0, 2, 2] = 1.0  # channel 0 fires once; channel 1 never
    assert dead_fraction(maps) == 0.5
    with pytest.raises(ValueError, match="'tanh' or 'sigmoid'"):
        saturated_fraction(maps, "relu")


def test_a_subclass_of_an_activation_module_counts_as_that_activation():
    class ClippedReLU(nn.ReLU):
        pass

    fc1, fc2 = layers()
    model = nn.Sequential(OrderedDict(fc1=fc1, act1=ClippedReLU(), fc2=fc2, act2=nn.Tanh()))
    assert_hand_statistics(measure_units(model, INPUTS, dormant_threshold=0.5), "act1", "act2")
