"""Parseval regularisation (Chung et al., 2024): keep every hidden layer's rows orthogonal.

The loss gains λ Σ_l ‖W_l W_lᵀ − s·I‖²_F over every hidden Linear/Conv (a conv's weight read as
out × rest), the output head excluded; its gradient for one layer is 4λ (W Wᵀ − s·I) W.
Plasticine applies it to the encoder's last Linear only; here every hidden layer.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.reinit import raw_weight
from plastilab.models.units import unit_layers


def parseval_weights(model: nn.Module) -> list[torch.Tensor]:
    """The trainable weights of the layers that compute hidden units (the head excluded)."""
    return [raw_weight(layer.incoming) for layer in unit_layers(model)]


def parseval_penalty(model: nn.Module, coefficient: float = 1e-3, scale: float = 1.0) -> torch.Tensor:
    total = 0.0
    for w in parseval_weights(model):
        rows = w.flatten(1)
        gram = rows @ rows.T
        total = total + (gram - scale * torch.eye(len(gram), device=w.device, dtype=w.dtype)).square().sum()
    return coefficient * total
