"""Shared by the resetting interventions: fresh initial values for a layer, and forgetting
what the optimiser remembers about some parameters (or some entries of them).

A layer under a parametrisation (spectral norm) keeps its trainable weight in
``parametrizations.weight.original``; ``raw_weight`` finds the tensor that training changes.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.nn.utils import parametrize

from plastilab.interventions.optimizer_state import forget_state, zero_state


def raw_weight(layer: nn.Module) -> torch.Tensor:
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


def fresh_like(layer: nn.Module) -> nn.Module:
    """A new layer of the same type and shape, initialised the way PyTorch initialises it."""
    kw = {"device": raw_weight(layer).device, "dtype": raw_weight(layer).dtype, "bias": layer.bias is not None}
    if isinstance(layer, nn.Linear):
        return nn.Linear(layer.in_features, layer.out_features, **kw)
    if isinstance(layer, nn.Conv2d):
        return nn.Conv2d(
            layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
            layer.dilation, layer.groups, padding_mode=layer.padding_mode, **kw,
        )
    raise TypeError(f"cannot re-initialise a {type(layer).__name__}; only Linear and Conv2d layers")


@torch.no_grad()
def reinitialise(layer: nn.Module, rows: torch.Tensor | None = None) -> None:
    """Give ``layer`` fresh initial values: all of it, or only output units ``rows`` (a bool mask)."""
    fresh = fresh_like(layer)
    targets = [(raw_weight(layer), fresh.weight)]
    if layer.bias is not None:
        targets.append((layer.bias, fresh.bias))
    for current, new in targets:
        if rows is None:
            current.copy_(new)
        else:
            current[rows] = new[rows]


def forget_optimizer_state(optimizer: torch.optim.Optimizer | None, params: Iterable[torch.Tensor]) -> None:
    """Drop the optimiser's memory (moments, step count) of ``params`` entirely."""
    forget_state(optimizer, params)


def zero_optimizer_state(optimizer: torch.optim.Optimizer | None, param: torch.Tensor, index) -> None:
    """Zero the optimiser's per-entry memory (Adam's moments, SGD's momentum) at ``param[index]``.

    Shared counters such as Adam's step stay: they belong to the whole tensor.
    """
    zero_state(optimizer, param, index)
