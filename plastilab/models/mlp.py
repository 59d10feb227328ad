"""A multilayer perceptron with named layers, so instruments can report per layer."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from plastilab.models.concat_activations import CReLU, FourierFeatures, width_factor

# crelu and dff output two values per unit: the layer after reads twice the width.
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "crelu": CReLU, "dff": FourierFeatures}


class MLP(nn.Module):
    """Flatten -> [Linear -> (LayerNorm) -> activation] * len(hidden) -> Linear.

    Hidden activations are modules named ``act1``, ``act2``, ... so forward hooks on them see
    every unit (dead units, feature rank); the output layer is ``head``.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "relu",
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        width = in_features
        self.body = nn.Sequential()
        for i, h in enumerate(hidden, start=1):
            self.body.add_module(f"fc{i}", nn.Linear(width, h))
            if layer_norm:
                self.body.add_module(f"ln{i}", nn.LayerNorm(h))
            self.body.add_module(f"act{i}", ACTIVATIONS[activation]())
            width = h * width_factor(activation)
        self.head = nn.Linear(width, out_features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's activations (the representation the head reads)."""
        # A tensor method, not an nn.Flatten module: one module call less on the hot path.
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
