"""The definitions other codebases publish under the same words, computed beside plastilab's own
(never in their place). A unit is a column of (samples, units) and a channel of a conv map, as in
``tensor_stats``; ``acts`` are activations, ``features`` the (samples, units) representation.

* active fraction (Plasticine's FAU): entry-wise share of activations that are "active", over
  samples × units: a > 0 for ReLU-like units (CReLU's halves included), |a| ≤ 0.99 for tanh,
  0.01 ≤ a ≤ 0.99 for sigmoid; undefined (None) for other activations;
* rarely active (LoP's dormant units, post-run analysis): a unit non-zero on fewer than 1% of
  samples × positions; ReLU-like units only;
* approximate rank (Yang et al. 2019, LoP): the smallest k with Σ_{i≤k} σ_i² ≥ 0.99 Σ σ_i²;
* feature norm (Plasticine, defined there but unused): mean over samples of ‖φ(x)‖₂;
* feature variance across units (Plasticine's commented-out form): mean over samples of the
  variance of φ(x) across units; across samples (the usual reading): mean over units of the
  variance of φ_j over samples. Both population variances (divided by n, not n − 1).
"""

from __future__ import annotations

import torch

from plastilab.instruments.rank import singular_values
from plastilab.instruments.tensor_stats import as_units

ACTIVE_RELU_LIKE = frozenset({"relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "silu", "mish", "crelu"})
RARELY_ACTIVE_THRESHOLD = 0.01  # LoP: active on under 1% of samples × positions
APPROXIMATE_RANK_SHARE = 0.99


def active_entries(acts: torch.Tensor, activation: str) -> torch.Tensor | None:
    """Per entry of (samples, units): True where the activation counts as active; None if undefined."""
    a = as_units(acts.detach())
    if activation in ACTIVE_RELU_LIKE:
        return a > 0
    if activation == "tanh":
        return a.abs() <= 0.99
    if activation == "sigmoid":
        return (a >= 0.01) & (a <= 0.99)
    return None


def active_fraction(acts: torch.Tensor, activation: str = "relu") -> float | None:
    """FAU: the share of active entries over samples × units."""
    active = active_entries(acts, activation)
    return None if active is None else float(active.double().mean())


def rarely_active_mask(acts: torch.Tensor, threshold: float = RARELY_ACTIVE_THRESHOLD) -> torch.Tensor:
    """Per unit: True where the activation is non-zero on fewer than ``threshold`` of the samples."""
    return (as_units(acts.detach()) != 0).double().mean(dim=0) < threshold


def approximate_rank(features: torch.Tensor, share: float = APPROXIMATE_RANK_SHARE) -> int:
    """The fewest singular values whose squares reach ``share`` of the total; 0 for a zero matrix."""
    energy = singular_values(as_units(features)) ** 2
    total = energy.sum()
    if total <= 0:
        return 0
    reached = torch.cumsum(energy, 0) >= share * total
    return int(reached.nonzero()[0]) + 1


def feature_norm(features: torch.Tensor) -> float:
    return float(as_units(features.detach()).double().norm(dim=1).mean())


def feature_variance_across_units(features: torch.Tensor) -> float:
    return float(as_units(features.detach()).double().var(dim=1, unbiased=False).mean())


def feature_variance_across_samples(features: torch.Tensor) -> float:
    return float(as_units(features.detach()).double().var(dim=0, unbiased=False).mean())
