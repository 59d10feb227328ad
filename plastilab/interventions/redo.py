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

from plastilab.interventions.unit_surgery import refresh_incoming, zero_outgoing
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


def unit_dormancy(layer: UnitLayer, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Per incoming unit: dormant when its score is ≤ τ; a unit shown several times (CReLU's
    [relu(z), relu(−z)]) only when every copy is."""
    dormant = scores <= threshold
    return dormant.view(layer.copies, -1).all(dim=0) if layer.copies > 1 else dormant


@torch.no_grad()
def recycle_dormant_units(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    x: torch.Tensor,
    threshold: float,
    layers: list[UnitLayer] | None = None,
    bias: str = "fresh",
) -> dict[str, int]:
    """Recycle the units whose score on ``x`` is ≤ ``threshold``; return how many, per layer.

    ``bias``: ``"fresh"`` (the recycled unit's bias from a fresh layer, like its weights) or
    ``"zero"`` (dopamine's ReDo)."""
    layers = unit_layers(model) if layers is None else layers
    scores = dormancy_scores(model, x, layers)
    dormant = {layer.name: unit_dormancy(layer, scores[layer.name], threshold) for layer in layers}
    # Fresh incoming weights everywhere first, then zero outgoing weights: a layer's outgoing
    # weights are the next layer's incoming ones, and a recycled unit's outgoing weights must
    # stay zero even when the unit it feeds is recycled as well.
    for layer in layers:
        if dormant[layer.name].any():
            refresh_incoming(layer, dormant[layer.name], optimizer, bias=bias)
    for layer in layers:
        if dormant[layer.name].any():
            zero_outgoing(layer, dormant[layer.name], optimizer)
    return {name: int(mask.sum()) for name, mask in dormant.items()}
