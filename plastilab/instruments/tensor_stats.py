"""Unit statistics of plain tensors: what a layer's pre-activations or activations say about its units.

For anyone who already has the tensors (from their own hooks, or a features matrix): no model, no
hooks. A unit is one feature: a column of a (samples, units) matrix, a channel of a
(batch, channels, height, width) map (every position is a sample), the last axis otherwise.

* dead - a ReLU-like unit whose pre-activation is never positive on the batch;
* dormant (ReDo, Sokar et al. 2023) - score ``s_i = mean|h_i| / mean_j mean|h_j|`` at most ``τ``;
* saturated - a tanh or sigmoid unit whose output always sits within 1% of the output range of an
  asymptote (``|tanh| >= 0.98``; ``sigmoid <= 0.01`` or ``>= 0.99``).
"""

from __future__ import annotations

import torch

SATURATION_MARGIN = 0.01  # share of the output range
DORMANT_THRESHOLD = 0.025  # ReDo's τ for its reinforcement-learning agents

# Activation names, as the lab spells them (the nn module's name in snake case).
RELU_LIKE_NAMES = frozenset({"relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "silu", "mish"})
SATURATING_NAMES = frozenset({"tanh", "sigmoid"})


def as_units(t: torch.Tensor) -> torch.Tensor:
    """``t`` as (samples, units): 4-D maps give one row per position, channels as units."""
    if t.dim() == 4:  # (N, C, H, W): channels are units, positions are samples
        return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])
    return t.reshape(-1, t.shape[-1]) if t.dim() != 1 else t.unsqueeze(1)


def dead_mask(preacts: torch.Tensor) -> torch.Tensor:
    """Per unit: True where the pre-activation is never positive on the batch."""
    return (as_units(preacts.detach()) <= 0).all(dim=0)


def dead_fraction(preacts: torch.Tensor) -> float:
    """Share of units whose pre-activation (the input of a ReLU) is never positive on the batch.

    >>> dead_fraction(torch.tensor([[1.0, -1.0], [2.0, 0.0]]))
    0.5
    """
    return float(dead_mask(preacts).float().mean())


def dormant_scores(acts: torch.Tensor) -> torch.Tensor:
    """ReDo's score of each unit: its mean |activation| over the layer's mean of those means.

    All zeros for a layer that is silent everywhere (every unit then counts as dormant).
    """
    score = as_units(acts.detach()).abs().double().mean(dim=0)
    mean = score.mean()
    return score / mean if mean > 0 else torch.zeros_like(score)


def dormant_mask(acts: torch.Tensor, tau: float = DORMANT_THRESHOLD) -> torch.Tensor:
    """Per unit: True where ReDo's score is at most ``tau``."""
    return dormant_scores(acts) <= tau


def dormant_fraction(acts: torch.Tensor, tau: float = DORMANT_THRESHOLD) -> float:
    """Share of units whose ReDo score (normalised mean |activation|) is at most ``tau``.

    >>> dormant_fraction(torch.tensor([[4.0, 0.0, 1.0, 0.0]]), tau=0.5)   # scores 3.2, 0, 0.8, 0
    0.5
    """
    return float(dormant_mask(acts, tau).float().mean())


def saturated_mask(acts: torch.Tensor, activation: str = "tanh") -> torch.Tensor:
    """Per unit: True where a ``tanh`` or ``sigmoid`` output sits at an asymptote on the whole batch."""
    units = as_units(acts.detach())
    if activation == "tanh":
        return (units.abs() >= 1 - 2 * SATURATION_MARGIN).all(dim=0)
    if activation == "sigmoid":
        return ((units <= SATURATION_MARGIN) | (units >= 1 - SATURATION_MARGIN)).all(dim=0)
    raise ValueError(f"saturation is defined for activation 'tanh' or 'sigmoid', not {activation!r}")


def saturated_fraction(acts: torch.Tensor, activation: str = "tanh") -> float:
    """Share of ``tanh`` (or ``sigmoid``) units pinned at an asymptote on the whole batch."""
    return float(saturated_mask(acts, activation).float().mean())
