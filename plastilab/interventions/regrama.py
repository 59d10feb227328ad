"""ReGraMa (Liu et al., 2025): recycle units by the size of their incoming gradient.

Every F steps, for each hidden layer with incoming weight gradient g (one row a unit; a conv's
kernel read as a row), score s_i = mean_j |g_ij| / (mean_k mean_j |g_kj| + 1e-8); units with
s_i ≤ τ are recycled as ReDo recycles them (incoming weights Kaiming-uniform, bias 0, outgoing
weights 0, their optimiser moments zeroed), so the network's function does not jump. It catches
units whose gradient has vanished whatever their activation (a saturated tanh as well as a dead
ReLU). Uses the gradient left by the last backward; a layer without one is skipped.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.reinit import raw_weight
from plastilab.interventions.unit_surgery import refresh_incoming, zero_outgoing
from plastilab.models.units import UnitLayer, unit_layers


def gradient_scores(layers: list[UnitLayer]) -> dict[str, torch.Tensor]:
    scores = {}
    for layer in layers:
        g = raw_weight(layer.incoming).grad
        if g is None:
            continue
        per_unit = g.detach().abs().flatten(1).mean(dim=1)
        scores[layer.name] = per_unit / (per_unit.mean() + 1e-8)
    return scores


@torch.no_grad()
def recycle_gradient_dormant(model: nn.Module, optimizer, threshold: float = 0.01, gain: float = 2**0.5) -> dict[str, int]:
    layers = unit_layers(model)
    scores = gradient_scores(layers)
    dormant = {layer.name: scores[layer.name] <= threshold for layer in layers if layer.name in scores}
    for layer in layers:  # all incoming first, then all outgoing (as ReDo, for adjacent layers)
        if layer.name in dormant and dormant[layer.name].any():
            refresh_incoming(layer, dormant[layer.name], optimizer, bias="zero", gain=gain)
    for layer in layers:
        if layer.name in dormant and dormant[layer.name].any():
            zero_outgoing(layer, dormant[layer.name], optimizer)
    return {name: int(mask.sum()) for name, mask in dormant.items()}
