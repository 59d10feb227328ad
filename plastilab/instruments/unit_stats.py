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

Beside them, the other codebases' definitions (``anchor_metrics``): the active fraction (FAU),
rarely active units, the layer-mean dormant fraction, the approximate rank, feature norm and
variances. docs/instruments.md gives every tag's definition.
"""

from __future__ import annotations

import torch

from plastilab.instruments.activations import (  # noqa: F401  (record_activity & co. are imported from here)
    RELU_LIKE,
    SATURATING,
    LayerActivity,
    record_activity,
)
from plastilab.instruments.anchor_metrics import (
    active_entries,
    approximate_rank,
    feature_norm,
    feature_variance_across_samples,
    feature_variance_across_units,
    rarely_active_mask,
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


# Whole-network values that are the representation's (the last activation layer's), not pooled.
REPRESENTATION_TAGS = (
    "features/effective_rank",
    "features/stable_rank",
    "features/approximate_rank",
    "features/norm",
    "features/variance_across_units",
    "features/variance_across_samples",
    "units/active_fraction",
)
RARELY_ACTIVE_NAMES = RELU_LIKE_NAMES | {"crelu"}


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

    Fractions are over every unit of the layers they apply to (dead, rarely active: ReLU-like;
    saturated: tanh/sigmoid; dormant: all), pooled over layers; ``units/dormant_fraction_layer_mean``
    is the mean of the layers' dormant fractions instead. A tag is left out when no layer applies.
    The whole-network ``features/*`` and ``units/active_fraction`` are those of the last
    activation layer, the representation a head reads.
    """
    out: dict[str, float] = {}
    totals = {"dead": [0, 0], "dormant": [0, 0], "saturated": [0, 0], "rarely_active": [0, 0]}
    dormant_per_layer: list[float] = []
    moments = [0.0, 0.0, 0]  # sum, sum of squares, count of pre-activations
    for layer in layers:
        masks = {
            "dead": dead_units(layer),
            "dormant": dormant_units(layer, dormant_threshold),
            "saturated": saturated_units(layer),
            "rarely_active": rarely_active_mask(layer.acts) if layer.activation in RARELY_ACTIVE_NAMES else None,
        }
        dormant_per_layer.append(float(masks["dormant"].float().mean()))
        active = active_entries(layer.acts, layer.activation)
        if active is not None:
            out[f"units/active_fraction/{layer.name}"] = float(active.double().mean())
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
        out[f"features/approximate_rank/{layer.name}"] = float(approximate_rank(layer.acts))
        out[f"features/norm/{layer.name}"] = feature_norm(layer.acts)
        out[f"features/variance_across_units/{layer.name}"] = feature_variance_across_units(layer.acts)
        out[f"features/variance_across_samples/{layer.name}"] = feature_variance_across_samples(layer.acts)
    for key, (count, units) in totals.items():
        if units:
            out[f"units/{key}_fraction"] = count / units
    if moments[2]:
        mean = moments[0] / moments[2]
        out["units/preact_mean"] = mean
        out["units/preact_std"] = max(moments[1] / moments[2] - mean * mean, 0.0) ** 0.5
    if dormant_per_layer:  # Plasticine's aggregation: the mean of the layers' fractions
        out["units/dormant_fraction_layer_mean"] = sum(dormant_per_layer) / len(dormant_per_layer)
    if layers:
        last = layers[-1].name
        for tag in REPRESENTATION_TAGS:
            if f"{tag}/{last}" in out:
                out[tag] = out[f"{tag}/{last}"]
    return out
