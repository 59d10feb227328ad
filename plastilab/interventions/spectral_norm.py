"""Spectral normalisation (Miyato et al., 2018) of every linear and conv layer.

Uses ``torch.nn.utils.parametrizations.spectral_norm``: the weight a layer uses is its raw
weight divided by a power-iteration estimate of its largest singular value (of the weight
reshaped to out × rest, for a conv), so each layer's largest singular value stays near 1. The estimate takes ``n_power_iterations``
steps per training forward, so it trails a weight that moves fast by a few forwards.
The output head is left free unless ``include_head``: with every layer capped at 1 a network
could not reach targets larger than its inputs allow.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def apply_spectral_norm(model: nn.Module, include_head: bool = False, n_power_iterations: int = 1) -> list[str]:
    """Parametrise every Linear/Conv2d of ``model`` in place; return the names of those layers."""
    head = getattr(model, "head", None)
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, (nn.Linear, nn.Conv2d)) and (include_head or module is not head)
    ]
    for name in names:
        spectral_norm(model.get_submodule(name), n_power_iterations=n_power_iterations)
    return names


@torch.no_grad()
def largest_singular_values(model: nn.Module) -> dict[str, float]:
    """σ_max of the weight each Linear/Conv2d layer uses (reshaped to out × rest)."""
    return {
        name: float(torch.linalg.matrix_norm(module.weight.flatten(1), ord=2))
        for name, module in model.named_modules()
        if isinstance(module, (nn.Linear, nn.Conv2d))
    }
