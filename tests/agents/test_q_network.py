"""The DQN agents' Q-networks: the small CNN torso's shapes, layer names and layer norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plastilab.agents.q_network import SmallCNN, build_q_network
from plastilab.models.mlp import MLP


def test_the_cnn_halves_the_map_per_convolution_and_names_layers_like_the_mlp():
    torch.manual_seed(0)
    net = build_q_network("cnn", (3, 9, 7), 5, hidden=(16,), channels=(4, 8))
    assert isinstance(net, SmallCNN)
    names = [name for name, _ in net.body.named_children()]
    assert names == ["conv1", "act1", "conv2", "act2", "flatten", "fc3", "act3"]
    # 9x7 -> 5x4 -> 3x2 (stride 2, padding 1: ceil(n / 2)), 8 channels
    assert net.body.fc3.in_features == 8 * 3 * 2
    x = torch.randn(6, 3, 9, 7)
    assert net(x).shape == (6, 5)
    assert net.features(x).shape == (6, 16)
    torch.testing.assert_close(net(x), net.head(net.features(x)))


def test_layer_norm_normalises_each_example_of_a_feature_map_and_of_a_dense_layer():
    net = build_q_network("cnn", (1, 4, 4), 2, hidden=(6,), channels=(3,), layer_norm=True)
    assert isinstance(net.body.ln1, nn.GroupNorm) and net.body.ln1.num_groups == 1
    assert isinstance(net.body.ln2, nn.LayerNorm)
    captured = {}
    net.body.ln1.register_forward_hook(lambda m, i, o: captured.setdefault("map", o))
    net(torch.randn(5, 1, 4, 4) * 10 + 3)
    per_example = captured["map"].flatten(1)
    torch.testing.assert_close(per_example.mean(1), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(per_example.std(1, unbiased=False), torch.ones(5), atol=1e-3, rtol=0)


def test_the_mlp_torso_flattens_the_observation():
    net = build_q_network("mlp", (2, 3, 3), 4, hidden=(8, 8))
    assert isinstance(net, MLP)
    assert net(torch.randn(7, 2, 3, 3)).shape == (7, 4)


def test_an_unknown_torso_names_the_allowed_ones():
    with pytest.raises(ValueError, match="torso: found 'rnn'; allowed: mlp, cnn"):
        build_q_network("rnn", (1, 2, 2), 2, hidden=(4,))
