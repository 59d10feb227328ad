"""Parameter-space statistics, whole network and per layer: norms, drift, gradients, updates.

A layer is the module that owns a parameter (``body.fc1.weight`` and ``body.fc1.bias`` belong to
``fc1``); its value is the L2 norm over all of its parameters. Every tag comes in a whole-network
form (``weights/norm``) and a per-layer form (``weights/norm/fc1``).

``weight_norms`` and ``distance_from_init`` take a model (its trainable parameters) or the
parameters themselves as a name -> tensor mapping, e.g. two checkpoints from ``snapshot_params``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from plastilab.instruments.functional import short_names

ParamsLike = nn.Module | Mapping[str, torch.Tensor]


def _trainable(source: ParamsLike) -> dict[str, torch.Tensor]:
    if isinstance(source, nn.Module):
        return {name: p.detach() for name, p in source.named_parameters() if p.requires_grad}
    return {name: t.detach() for name, t in source.items()}


def layer_groups(model: ParamsLike) -> dict[str, list[str]]:
    """Layer name -> the names of its trainable parameters, in model order."""
    owners: dict[str, list[str]] = {}
    for name in _trainable(model):
        owners.setdefault(name.rpartition(".")[0], []).append(name)
    names = short_names(owners)
    return {names[owner]: params for owner, params in owners.items()}


def _norms(tensors: Mapping[str, torch.Tensor], groups: dict[str, list[str]], tag: str) -> dict[str, float]:
    squares = {layer: sum(float(tensors[n].double().square().sum()) for n in names) for layer, names in groups.items()}
    out = {f"{tag}/{layer}": s**0.5 for layer, s in squares.items()}
    out[tag] = sum(squares.values()) ** 0.5
    return out


def weight_norms(model: ParamsLike) -> dict[str, float]:
    """``||θ||`` per layer (``weights/norm/<layer>``) and overall (``weights/norm``)."""
    return _norms(_trainable(model), layer_groups(model), "weights/norm")


def distance_from_init(model: ParamsLike, init_params: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """``||θ - θ_0||`` per layer and overall; ``init_params`` as from ``snapshot_params``."""
    groups = layer_groups(model)
    diffs = {n: p - init_params[n].to(p.device) for n, p in _trainable(model).items() if n in init_params}
    groups = {layer: [n for n in names if n in diffs] for layer, names in groups.items()}
    return _norms(diffs, groups, "weights/distance_from_init")


def gradient_norms(model: nn.Module, grads: Mapping[str, torch.Tensor] | None = None) -> dict[str, float]:
    """Norms of ``grads`` or, by default, of the ``.grad`` the last backward left; {} if none."""
    if grads is None:
        grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    if not grads:
        return {}
    groups = {layer: [n for n in names if n in grads] for layer, names in layer_groups(model).items()}
    return _norms({n: g.detach() for n, g in grads.items()}, {k: v for k, v in groups.items() if v}, "grads/norm")


def update_ratios(model: nn.Module, previous_params: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Update-to-weight ratio ``||θ - θ_prev|| / ||θ_prev||`` per layer and overall.

    With ``previous_params`` taken just before the last optimiser step, this is that step's ratio.
    """
    groups = layer_groups(model)
    current = {n: p.detach() for n, p in model.named_parameters() if n in previous_params}
    prev = {n: previous_params[n].to(p.device) for n, p in current.items()}
    groups = {layer: [n for n in names if n in current] for layer, names in groups.items()}
    groups = {k: v for k, v in groups.items() if v}
    steps = _norms({n: current[n] - prev[n] for n in current}, groups, "updates/ratio")
    sizes = _norms(prev, groups, "updates/ratio")
    return {tag: steps[tag] / sizes[tag] if sizes[tag] > 0 else float("inf") for tag in steps}


def _per_entry(tensors: Mapping[str, torch.Tensor], groups: dict[str, list[str]], tag: str, kind: str) -> dict[str, float]:
    """``sqrt(Σθ²/N)`` (kind ``rms``) or ``Σ|θ|/N`` (``mean_abs``) per layer and overall."""
    sums, counts = {}, {}
    for layer, names in groups.items():
        t = [tensors[n].double() for n in names]
        sums[layer] = sum(float(x.square().sum() if kind == "rms" else x.abs().sum()) for x in t)
        counts[layer] = sum(x.numel() for x in t)

    def value(total: float, count: int) -> float:
        mean = total / count if count else 0.0
        return mean**0.5 if kind == "rms" else mean

    out = {f"{tag}/{layer}": value(sums[layer], counts[layer]) for layer in groups}
    out[tag] = value(sum(sums.values()), sum(counts.values()))
    return out


def weight_magnitudes(model: ParamsLike) -> dict[str, float]:
    """Per-entry sizes: ``weights/rms`` = ‖θ‖₂/√N (Plasticine) and ``weights/mean_abs`` = Σ|θ|/N
    (LoP), per layer and overall, over every trainable parameter (biases included)."""
    params, groups = _trainable(model), layer_groups(model)
    return {**_per_entry(params, groups, "weights/rms", "rms"), **_per_entry(params, groups, "weights/mean_abs", "mean_abs")}


def rms_change(model: ParamsLike, previous: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """``weights/rms_change`` = ‖θ − θ_prev‖₂/√N (Plasticine's weight difference) with θ_prev the
    parameters at the previous measurement; parameters absent from ``previous`` are left out."""
    groups = layer_groups(model)
    current = _trainable(model)
    diffs = {n: p - previous[n].to(p.device) for n, p in current.items() if n in previous and previous[n].shape == p.shape}
    groups = {layer: [n for n in names if n in diffs] for layer, names in groups.items()}
    return _per_entry(diffs, {k: v for k, v in groups.items() if v}, "weights/rms_change", "rms")


def total_gradient_norm(model: nn.Module) -> torch.Tensor | None:
    """‖∇θ‖₂ over every ``.grad`` the last backward left, as a tensor (no host sync); None if none."""
    grads = [p.grad.detach() for p in model.parameters() if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.double()) for g in grads]))
