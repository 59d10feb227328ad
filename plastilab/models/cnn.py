"""A small convolutional network with named layers (the paper's CNN, scaled to 28×28 / 32×32).

conv1 -> (norm1) -> act1 -> pool -> conv2 -> (norm2) -> act2 -> pool -> flatten -> fc
-> (norm3) -> act3 -> head. Like ``MLP``, activations are modules named ``act1``, ``act2``, ...
so forward hooks see every unit, ``features()`` is what the head reads, and ``head`` is the
output layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plastilab.models.concat_activations import width_factor
from plastilab.models.mlp import ACTIVATIONS
from plastilab.models.norms import layer_norm_2d


class CNN(nn.Module):
    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        channels: Sequence[int] = (32, 64),
        hidden: int = 128,
        activation: str = "relu",
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        in_channels, height, width = input_shape
        self.body = nn.Sequential()
        for i, c in enumerate(channels, start=1):
            self.body.add_module(f"conv{i}", nn.Conv2d(in_channels, c, kernel_size=3, padding=1))
            if layer_norm:
                self.body.add_module(f"norm{i}", layer_norm_2d(c))
            self.body.add_module(f"act{i}", ACTIVATIONS[activation]())
            self.body.add_module(f"pool{i}", nn.MaxPool2d(2))
            in_channels, height, width = c * width_factor(activation), height // 2, width // 2
        self.body.add_module("flatten", nn.Flatten())
        n = len(channels) + 1
        self.body.add_module(f"fc{n}", nn.Linear(in_channels * height * width, hidden))
        if layer_norm:
            self.body.add_module(f"norm{n}", nn.LayerNorm(hidden))
        self.body.add_module(f"act{n}", ACTIVATIONS[activation]())
        self.head = nn.Linear(hidden * width_factor(activation), out_features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
