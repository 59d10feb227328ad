"""What the hidden units do on a batch: dead, dormant and saturated units, pre-activation drift.

:mod:`~plastilab.instruments.activations` finds the units (hooks on activation modules, in-place
ones included; ``watch``-ed layers; ``torch.fx`` for functional activations) and
:mod:`~plastilab.instruments.tensor_stats` defines each statistic on plain tensors. A unit is one
feature: a column of a (batch, features) output, a channel of a (batch, channels, height, width)
map (every position is a sample), the last axis otherwise.

Definitions (each per unit, over every sample of the batch):

* dead - a ReLU-like unit whose pre-activation is never positive;
* saturated - a tanh or sigmoid unit whose output always sits within 1% of the output range of an
  asymptote (``|tanh| >= 0.98``; ``sigmoid <= 0.01`` or ``>= 0.99``);
* dormant (ReDo, Sokar et al. 2023) - score ``s_i = mean|h_i| / mean_j mean|h_j|`` at most ``τ``.
"""

from __future__ import annotations

import torch

from plastilab.instruments.activations import (  # noqa: F401  (record_activity & co. are imported from here)
    RELU_LIKE,
    SATURATING,
    LayerActivity,
    record_activity,
)
from plastilab.instruments.rank import feature_ranks
from plastilab.instruments.tensor_stats import (
    DORMANT_THRESHOLD,
    RELU_LIKE_NAMES,
    SATURATING_NAMES,
    dead_mask,
    dormant_mask,
    saturated_mask,
)


def dead_units(layer: LayerActivity) -> torch.Tensor | None:
    """Mask of ReLU-like units never active on the batch; None for other activations."""
    return dead_mask(layer.preacts) if layer.activation in RELU_LIKE_NAMES else None


def saturated_units(layer: LayerActivity) -> torch.Tensor | None:
    """Mask of tanh/sigmoid units pinned at an asymptote on the whole batch; None for others."""
    return saturated_mask(layer.acts, layer.activation) if layer.activation in SATURATING_NAMES else None


def dormant_units(layer: LayerActivity, threshold: float) -> torch.Tensor:
    """ReDo's dormant units: normalised mean |activation| at most ``threshold`` (τ)."""
    return dormant_mask(layer.acts, threshold)


def unit_statistics(layers: list[LayerActivity], dormant_threshold: float = DORMANT_THRESHOLD) -> dict[str, float]:
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
