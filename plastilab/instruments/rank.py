"""Ranks of a feature matrix (examples x units): how many directions the representation uses.

* effective rank (Roy & Vetterli 2007): ``exp(H(p))`` with ``p = σ / Σσ`` over the singular values;
* srank (Kumar et al. 2021, "implicit under-parameterisation"): the fewest singular values whose
  sum reaches ``1 - δ`` of the total, with ``δ = 0.01``. The lab logs it as ``stable_rank``.

Both are 0 for an all-zero matrix. Features are not centred, as in the papers.
"""

from __future__ import annotations

import torch


def singular_values(features: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D feature matrix, descending, in float64 for a stable entropy.

    A tall matrix (a conv layer: every position is a row) goes through its small Gram matrix,
    whose eigenvalues are the squared singular values: far cheaper than an SVD of the tall one.
    """
    a = features.detach().double()
    if a.shape[0] <= 2 * a.shape[1]:
        return torch.linalg.svdvals(a)
    return torch.linalg.eigvalsh(a.T @ a).clamp_min(0).sqrt().flip(0)


def effective_rank(features: torch.Tensor) -> float:
    sigma = singular_values(features)
    total = sigma.sum()
    if total <= 0:
        return 0.0
    p = sigma / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def stable_rank(features: torch.Tensor, delta: float = 0.01) -> int:
    """srank_δ: the smallest k with ``Σ_{i≤k} σ_i ≥ (1 - δ) Σ_i σ_i``."""
    sigma = singular_values(features)
    total = sigma.sum()
    if total <= 0:
        return 0
    reached = torch.cumsum(sigma, 0) >= (1 - delta) * total
    return int(reached.nonzero()[0]) + 1
