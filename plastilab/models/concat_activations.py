"""Activations that output two values per unit, concatenated along the unit axis, so the next layer
reads twice as many inputs:

* CReLU (Shang et al. 2016; Abbas et al. 2023 against loss of plasticity): [relu(z), relu(−z)],
  never zero on both halves, so no unit can die;
* Deep Fourier features (Lewandowski et al. 2024, "DFF"): [sin z, cos z], a linear-and-periodic
  pair that keeps gradients alive.

``copies = 2`` tells the unit map (``models.units``) that output unit ``c·n + i`` is unit ``i``'s
copy ``c``. Unit axis: the last for a (batch, units) tensor, the channel axis for a conv map.
"""

from __future__ import annotations

import torch
from torch import nn


class _Concatenating(nn.Module):
    copies = 2

    @staticmethod
    def _axis(z: torch.Tensor) -> int:
        return 1 if z.dim() == 4 else -1


class CReLU(_Concatenating):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(z), torch.relu(-z)], dim=self._axis(z))


class FourierFeatures(_Concatenating):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.sin(z), torch.cos(z)], dim=self._axis(z))


def width_factor(activation: str) -> int:
    """How many inputs per unit the next layer reads (2 for CReLU and DFF)."""
    return 2 if activation in ("crelu", "dff") else 1
