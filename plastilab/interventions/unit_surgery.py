"""The edits that unit-level interventions (ReDo, continual backprop, ReGraMa) make to one layer of
units, in place, with the optimiser's memory of exactly the edited entries zeroed.

A layer of units (``models.units.UnitLayer``) has an incoming layer (one output row or channel a
unit) and an outgoing one (one input column or channel a unit). Masks here are over the incoming
layer's units; a concatenating activation (CReLU, Fourier features) shows each unit ``copies``
times to the outgoing layer, so its columns are the mask repeated.

The outgoing "layer" may be an injected head (``plasticity_injection.InjectedHead``): the sum of a
frozen old head, a fresh head and the fresh head's frozen copy. Its columns are edited in all of
them, so the head's output stays what it was.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from plastilab.interventions.optimizer_state import zero_state
from plastilab.interventions.reinit import raw_weight, reinitialise
from plastilab.models.units import UnitLayer


def weighted_parts(module: nn.Module) -> list[tuple[nn.Module, float]]:
    """The Linear/Conv layers a module's output sums, each with its sign (+1, or −1 for an injected
    head's frozen copy); a plain layer is itself."""
    parts = getattr(module, "weighted_parts", None)
    return parts() if parts is not None else [(module, 1.0)]


def column_mask(layer: UnitLayer, units: torch.Tensor) -> torch.Tensor:
    return units.repeat(layer.copies) if layer.copies > 1 else units


def outgoing_view(weight: torch.Tensor, n_columns: int) -> torch.Tensor:
    """The outgoing weight as (out, unit columns, rest): a flattened conv map gives each channel
    several input columns of a following Linear, a conv gives it a kernel."""
    return weight.view(weight.shape[0], n_columns, -1)


def outgoing_weight(layer: UnitLayer, n_columns: int) -> torch.Tensor:
    """The effective outgoing weight (signed sum over an injected head's parts), (out, columns, rest)."""
    return sum(sign * outgoing_view(raw_weight(m), n_columns) for m, sign in weighted_parts(layer.outgoing))


@torch.no_grad()
def refresh_incoming(layer: UnitLayer, units: torch.Tensor, optimizer, *, bias: str = "fresh", gain: float | None = None) -> None:
    """New incoming weights for ``units``: PyTorch's default initialisation (``gain`` None) or
    U(−b, b) with b = gain·√(3/fan_in) (Kaiming-uniform; continual backprop, ReGraMa); the bias from
    the fresh layer (``"fresh"``) or 0 (``"zero"``). Their optimiser moments and norm units reset."""
    incoming = layer.incoming
    weight = raw_weight(incoming)
    if gain is None:
        reinitialise(incoming, rows=units)
    else:
        fan_in = weight[0].numel()
        bound = gain * math.sqrt(3.0 / fan_in)
        weight[units] = torch.empty_like(weight[units]).uniform_(-bound, bound)
    if incoming.bias is not None and bias == "zero":
        incoming.bias[units] = 0
    zero_state(optimizer, weight, units)
    if incoming.bias is not None:
        zero_state(optimizer, incoming.bias, units)
    if layer.norm is not None:
        reset_norm_units(layer.norm, units, optimizer)


@torch.no_grad()
def zero_outgoing(layer: UnitLayer, units: torch.Tensor, optimizer) -> None:
    columns = column_mask(layer, units)
    for module, _ in weighted_parts(layer.outgoing):
        out = raw_weight(module)
        outgoing_view(out, len(columns))[:, columns] = 0
        zero_state(optimizer, out, (slice(None), columns), view=(out.shape[0], len(columns), -1))


@torch.no_grad()
def absorb_into_next_bias(layer: UnitLayer, units: torch.Tensor, mean_activation: torch.Tensor) -> None:
    """The next layer's bias takes over the units' mean contribution Σ w_out[:, i]·f_i (continual
    backprop), so that zeroing their outgoing weights changes the output only by their deviation
    from the mean. ``mean_activation`` is per unit column. For an injected head it is the fresh
    head's bias that moves (the trainable one)."""
    columns = column_mask(layer, units)
    w = outgoing_weight(layer, len(columns))[:, columns]  # (out, k, rest)
    shift = (w.sum(dim=2) * mean_activation[columns]).sum(dim=1)
    parts = weighted_parts(layer.outgoing)
    target = next((m for m, sign in parts if sign > 0 and m.bias is not None and m.bias.requires_grad), parts[0][0])
    if target.bias is not None:
        target.bias.add_(shift)


def reset_norm_units(norm: nn.Module, units: torch.Tensor, optimizer) -> None:
    """A replaced unit's own scale and shift (and batch-norm statistics) start afresh too."""
    if getattr(norm, "weight", None) is not None and norm.weight.shape == units.shape:
        norm.weight[units] = 1
        norm.bias[units] = 0
        zero_state(optimizer, norm.weight, units)
        zero_state(optimizer, norm.bias, units)
    if getattr(norm, "running_mean", None) is not None:
        norm.running_mean[units] = 0
        norm.running_var[units] = 1
