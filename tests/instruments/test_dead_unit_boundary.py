"""A ReLU unit whose pre-activation is exactly zero on every input is dead: ReLU(0) = 0 and its
gradient there is 0, so it never learns again. The boundary is where a `<` for `<=` would hide."""

import torch
from torch import nn

from plastilab.instruments.tensor_stats import dead_fraction, dead_mask
from plastilab.instruments.unit_stats import LayerActivity, unit_statistics
from plastilab.scenarios.common import forward_counting_dead_units


def test_a_unit_pinned_at_zero_is_dead():
    preacts = torch.tensor([[0.0, -1.0, 0.0, 3.0], [0.0, -2.0, 1e-6, 0.0]])
    assert dead_mask(preacts).tolist() == [True, True, False, False]
    assert dead_fraction(preacts) == 0.5


def test_channels_of_a_feature_map_are_the_units():
    maps = torch.zeros(2, 3, 2, 2)  # channel 0 all zero: dead; channel 1 one positive pixel
    maps[1, 1, 1, 0] = 0.5
    maps[:, 2] = -1.0
    assert dead_mask(maps).tolist() == [True, False, True]


def test_the_instrument_and_the_runners_count_the_same_dead_units():
    layer = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with torch.no_grad():
        layer[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]))
        layer[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]))
    x = torch.tensor([[1.0, 1.0], [2.0, -1.0]])  # unit 0: preact 0 always; unit 2: negative
    _, counted = forward_counting_dead_units(layer, x)
    assert counted == 0.5
    preacts = layer[0](x).detach()
    stats = unit_statistics([LayerActivity("0", None, preacts, torch.relu(preacts), "relu")])
    assert stats["units/dead_fraction"] == 0.5
    assert stats["units/dead_fraction/0"] == 0.5
