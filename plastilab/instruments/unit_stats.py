"""What the hidden units do on a batch: dead, dormant and saturated units, pre-activation drift.

Activations are caught by forward hooks on activation *modules* (``nn.ReLU``, ``nn.Tanh``, ...), so
any ``nn.Module`` works; the MLP names them ``act1``, ``act2``, ... A functional ``F.relu`` call is
invisible to hooks. A unit is one feature: a column of a (batch, features) output, a channel of a
(batch, channels, height, width) map (every position is a sample), the last axis otherwise.

Definitions (each per unit, over every sample of the batch):

* dead - a ReLU-like unit whose pre-activation is never positive;
* saturated - a tanh or sigmoid unit whose output always sits within 1% of the output range of an
  asymptote (``|tanh| >= 0.98``; ``sigmoid <= 0.01`` or ``>= 0.99``);
* dormant (ReDo, Sokar et al. 2023) - score ``s_i = mean|h_i| / mean_j mean|h_j|`` at most ``τ``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from plastilab.instruments.functional import cloned_buffers, isolated_rng, short_names
from plastilab.instruments.rank import feature_ranks

RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish)
SATURATING = (nn.Tanh, nn.Sigmoid)
SATURATION_MARGIN = 0.01  # share of the output range


@dataclass(frozen=True)
class LayerActivity:
    """One activation module's input and output on a batch, as (samples, units)."""

    name: str
    module: nn.Module
    preacts: torch.Tensor
    acts: torch.Tensor

    @property
    def units(self) -> int:
        return self.acts.shape[1]


def _as_units(t: torch.Tensor) -> torch.Tensor:
    if t.dim() == 4:  # (N, C, H, W): channels are units, positions are samples
        return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])
    return t.reshape(-1, t.shape[-1]) if t.dim() != 1 else t.unsqueeze(1)


def record_activity(model: nn.Module, inputs: torch.Tensor, *, seed: int = 0) -> list[LayerActivity]:
    """Run ``model`` once on ``inputs`` and return every activation module's activity, in call order.

    The model keeps its mode; it runs on cloned buffers (batch-norm running statistics untouched)
    and private random streams (dropout does not move the training loop's generator).
    """
    modules = [(name, m) for name, m in model.named_modules() if isinstance(m, RELU_LIKE + SATURATING)]
    names = short_names([name for name, _ in modules])
    caught: list[LayerActivity] = []
    calls: dict[str, int] = {}

    def hook_for(name: str):
        def hook(module, args, output):
            calls[name] = calls.get(name, 0) + 1
            label = name if calls[name] == 1 else f"{name}#{calls[name]}"  # a module called twice
            caught.append(LayerActivity(label, module, _as_units(args[0].detach()), _as_units(output.detach())))

        return hook

    handles = [m.register_forward_hook(hook_for(names[name])) for name, m in modules]
    try:
        with torch.no_grad(), isolated_rng(seed, inputs.device):
            functional_call(model, cloned_buffers(model), (inputs,))
    finally:
        for handle in handles:
            handle.remove()
    return caught


def dead_units(layer: LayerActivity) -> torch.Tensor | None:
    """Mask of ReLU-like units never active on the batch; None for other activations."""
    if not isinstance(layer.module, RELU_LIKE):
        return None
    return (layer.preacts <= 0).all(dim=0)


def saturated_units(layer: LayerActivity) -> torch.Tensor | None:
    """Mask of tanh/sigmoid units pinned at an asymptote on the whole batch; None for others."""
    if isinstance(layer.module, nn.Tanh):
        return (layer.acts.abs() >= 1 - 2 * SATURATION_MARGIN).all(dim=0)
    if isinstance(layer.module, nn.Sigmoid):
        low, high = layer.acts <= SATURATION_MARGIN, layer.acts >= 1 - SATURATION_MARGIN
        return (low | high).all(dim=0)
    return None


def dormant_units(layer: LayerActivity, threshold: float) -> torch.Tensor:
    """ReDo's dormant units: normalised mean |activation| at most ``threshold`` (τ)."""
    score = layer.acts.abs().mean(dim=0)
    mean = score.mean()
    if mean <= 0:
        return torch.ones_like(score, dtype=torch.bool)
    return score / mean <= threshold


def unit_statistics(layers: list[LayerActivity], dormant_threshold: float = 0.025) -> dict[str, float]:
    """Tagged scalars: whole network as ``units/dead_fraction``, each layer as ``.../<layer>``.

    Fractions are over every unit of the layers they apply to (dead: ReLU-like; saturated:
    tanh/sigmoid; dormant: all); a tag is left out when no layer applies. The whole-network
    ``features/*`` ranks are those of the last activation layer, the representation a head reads.
    """
    out: dict[str, float] = {}
    totals = {"dead": [0, 0], "dormant": [0, 0], "saturated": [0, 0]}
    moments = [0.0, 0.0, 0]  # sum, sum of squares, count of pre-activations
    for layer in layers:
        masks = {
            "dead": dead_units(layer),
            "dormant": dormant_units(layer, dormant_threshold),
            "saturated": saturated_units(layer),
        }
        for key, mask in masks.items():
            if mask is not None:
                out[f"units/{key}_fraction/{layer.name}"] = float(mask.float().mean())
                totals[key][0] += int(mask.sum())
                totals[key][1] += mask.numel()
        pre = layer.preacts.double()
        out[f"units/preact_mean/{layer.name}"] = float(pre.mean())
        out[f"units/preact_std/{layer.name}"] = float(pre.std(unbiased=False))
        moments[0] += float(pre.sum())
        moments[1] += float((pre * pre).sum())
        moments[2] += pre.numel()
        erank, srank = feature_ranks(layer.acts)
        out[f"features/effective_rank/{layer.name}"] = erank
        out[f"features/stable_rank/{layer.name}"] = float(srank)
    for key, (count, units) in totals.items():
        if units:
            out[f"units/{key}_fraction"] = count / units
    if moments[2]:
        mean = moments[0] / moments[2]
        out["units/preact_mean"] = mean
        out["units/preact_std"] = max(moments[1] / moments[2] - mean * mean, 0.0) ** 0.5
    if layers:
        out["features/effective_rank"] = out[f"features/effective_rank/{layers[-1].name}"]
        out["features/stable_rank"] = out[f"features/stable_rank/{layers[-1].name}"]
    return out
