"""ReDo: recycle dormant units (Sokar et al., 2023).

A unit's dormancy score is the mean |activation| over a batch (and over positions, for a conv
channel or a token) divided by the mean of that over its layer; it is dormant if the score is
≤ τ. Recycling a dormant unit gives its incoming weights fresh initial values, zeroes its
outgoing weights (so the network's function does not jump), and zeroes the optimiser's moments
for exactly those weights. Nothing else is touched.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.reinit import raw_weight, reinitialise, zero_optimizer_state
from plastilab.models.units import UnitLayer, unit_layers


@torch.no_grad()
def dormancy_scores(model: nn.Module, x: torch.Tensor, layers: list[UnitLayer] | None = None) -> dict[str, torch.Tensor]:
    """Each unit layer's per-unit score on batch ``x`` (one forward pass, no gradients)."""
    layers = unit_layers(model) if layers is None else layers
    activity: dict[str, torch.Tensor] = {}

    def hook_for(layer: UnitLayer):
        def hook(module, inputs, output):
            a = layer.activation(output) if layer.activation is not None else output
            a = a.abs().movedim(layer.unit_dim, -1)
            activity[layer.name] = a.reshape(-1, a.shape[-1]).mean(dim=0)

        return hook

    handles = [layer.probe.register_forward_hook(hook_for(layer)) for layer in layers]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    # A layer whose units are all silent has mean 0: every score is 0, every unit dormant.
    return {name: a / (a.mean() + 1e-9) for name, a in activity.items()}


@torch.no_grad()
def recycle_dormant_units(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    x: torch.Tensor,
    threshold: float,
    layers: list[UnitLayer] | None = None,
) -> dict[str, int]:
    """Recycle the units whose score on ``x`` is ≤ ``threshold``; return how many, per layer."""
    layers = unit_layers(model) if layers is None else layers
    scores = dormancy_scores(model, x, layers)
    dormant = {layer.name: scores[layer.name] <= threshold for layer in layers}
    # Fresh incoming weights everywhere first, then zero outgoing weights: a layer's outgoing
    # weights are the next layer's incoming ones, and a recycled unit's outgoing weights must
    # stay zero even when the unit it feeds is recycled as well.
    for layer in layers:
        if dormant[layer.name].any():
            _refresh_incoming(layer, dormant[layer.name], optimizer)
    for layer in layers:
        if dormant[layer.name].any():
            _zero_outgoing(layer, dormant[layer.name], optimizer)
    return {name: int(mask.sum()) for name, mask in dormant.items()}


def _refresh_incoming(layer: UnitLayer, dormant: torch.Tensor, optimizer: torch.optim.Optimizer | None) -> None:
    reinitialise(layer.incoming, rows=dormant)
    zero_optimizer_state(optimizer, raw_weight(layer.incoming), dormant)
    if layer.incoming.bias is not None:
        zero_optimizer_state(optimizer, layer.incoming.bias, dormant)
    if layer.norm is not None:
        _reset_norm_units(layer.norm, dormant, optimizer)


def _zero_outgoing(layer: UnitLayer, dormant: torch.Tensor, optimizer: torch.optim.Optimizer | None) -> None:
    out = raw_weight(layer.outgoing)
    # The outgoing weight viewed as (out, units, rest): a flattened conv map gives each channel
    # several input columns of a following Linear, a conv gives it a kernel.
    out.view(out.shape[0], len(dormant), -1)[:, dormant] = 0
    state = optimizer.state.get(out, {}) if optimizer is not None else {}
    for value in state.values():
        if torch.is_tensor(value) and value.shape == out.shape:
            value.view(out.shape[0], len(dormant), -1)[:, dormant] = 0


def _reset_norm_units(norm: nn.Module, dormant: torch.Tensor, optimizer: torch.optim.Optimizer | None) -> None:
    """A recycled unit's own scale and shift (and batch-norm statistics) start afresh too."""
    if getattr(norm, "weight", None) is not None and norm.weight.shape == dormant.shape:
        norm.weight[dormant] = 1
        norm.bias[dormant] = 0
        zero_optimizer_state(optimizer, norm.weight, dormant)
        zero_optimizer_state(optimizer, norm.bias, dormant)
    if getattr(norm, "running_mean", None) is not None:
        norm.running_mean[dormant] = 0
        norm.running_var[dormant] = 1
