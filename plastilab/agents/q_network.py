"""Q-networks: a torso (MLP, small CNN or the Nature DQN CNN, each optionally with layer norm)
and a linear head.

Both torsos name their layers the way ``plastilab.models.mlp.MLP`` does (``body.fc1``,
``body.act1``, ..., ``head``) so the instruments' hooks find every hidden unit by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from plastilab.models.mlp import MLP


class ConvTorsoQNetwork(nn.Module):
    """[Conv -> (layer norm) -> ReLU] per convolution -> Flatten ->
    [Linear -> (layer norm) -> ReLU] * len(hidden) -> Linear head.

    A torso says how its convolutions are shaped (``convolutions``): each as (channels, kernel
    size, stride, padding), one per entry of ``channels``. Layer norm on a feature map is
    GroupNorm with one group: it normalises each example over (channels, height, width), which is
    what LayerNorm does for a dense layer.
    """

    def __init__(
        self,
        observation_shape: Sequence[int],
        channels: Sequence[int],
        hidden: Sequence[int],
        out_features: int,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        c, h, w = observation_shape
        self.body = nn.Sequential()
        i = 0
        for i, (width, kernel, stride, padding) in enumerate(self.convolutions(channels), start=1):
            self.body.add_module(f"conv{i}", nn.Conv2d(c, width, kernel_size=kernel, stride=stride, padding=padding))
            if layer_norm:
                self.body.add_module(f"ln{i}", nn.GroupNorm(1, width))
            self.body.add_module(f"act{i}", nn.ReLU())
            c, h, w = width, (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
        self.body.add_module("flatten", nn.Flatten())
        features = c * h * w
        for i, width in enumerate(hidden, start=i + 1):
            self.body.add_module(f"fc{i}", nn.Linear(features, width))
            if layer_norm:
                self.body.add_module(f"ln{i}", nn.LayerNorm(width))
            self.body.add_module(f"act{i}", nn.ReLU())
            features = width
        self.head = nn.Linear(features, out_features)

    def convolutions(self, channels: Sequence[int]) -> list[tuple[int, int, int, int]]:
        """(channels, kernel size, stride, padding) of each convolution."""
        raise NotImplementedError

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(ConvTorsoQNetwork):
    """Conv 3x3 stride 2 (padding 1, so each halves the map) per entry of ``channels``."""

    def convolutions(self, channels: Sequence[int]) -> list[tuple[int, int, int, int]]:
        return [(width, 3, 2, 1) for width in channels]


class NatureCNN(ConvTorsoQNetwork):
    """The DQN torso of Mnih et al. (2015, Nature): Conv 8x8 stride 4 -> Conv 4x4 stride 2 ->
    Conv 3x3 stride 1 (32, 64, 64 channels by default) -> Flatten -> Linear 512 -> Linear head,
    ReLU after every hidden layer; with ``layer_norm``, a layer norm before each ReLU (one group
    GroupNorm on the feature maps, as in ``SmallCNN``). Input: (B, 4, 84, 84) frames in [0, 1].
    """

    KERNELS = ((8, 4), (4, 2), (3, 1))  # (kernel size, stride) of the three convolutions

    def convolutions(self, channels: Sequence[int]) -> list[tuple[int, int, int, int]]:
        if len(channels) != len(self.KERNELS):
            raise ValueError(f"channels: found {list(channels)}; the Nature CNN has 3 convolutions (e.g. [32, 64, 64])")
        return [(width, kernel, stride, 0) for width, (kernel, stride) in zip(channels, self.KERNELS)]


def build_q_network(
    torso: str,
    observation_shape: Sequence[int],
    n_actions: int,
    *,
    hidden: Sequence[int],
    channels: Sequence[int] = (),
    layer_norm: bool = False,
) -> nn.Module:
    """A network mapping a batch of observations (B, C, H, W) to Q-values (B, n_actions)."""
    if torso == "mlp":
        return MLP(math.prod(observation_shape), hidden, n_actions, activation="relu", layer_norm=layer_norm)
    if torso == "cnn":
        return SmallCNN(observation_shape, channels, hidden, n_actions, layer_norm=layer_norm)
    if torso == "nature_cnn":
        return NatureCNN(observation_shape, channels, hidden, n_actions, layer_norm=layer_norm)
    raise ValueError(f"torso: found {torso!r}; allowed: mlp, cnn, nature_cnn")
