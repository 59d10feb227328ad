"""Ranks of a feature matrix (examples x units): how many directions the representation uses.

* effective rank (Roy & Vetterli 2007): ``exp(H(p))`` with ``p = σ / Σσ`` over the singular values;
* srank (Kumar et al. 2021, "implicit under-parameterisation"): the fewest singular values whose
  sum reaches ``1 - δ`` of the total, with ``δ = 0.01``. The lab logs it as ``stable_rank``.

Both are 0 for an all-zero matrix. Features are not centred, as in the papers.
"""

from __future__ import annotations

import math

import torch

SRANK_DELTA = 0.01


def singular_values(features: torch.Tensor) -> torch.Tensor:
    """Singular values of a 2-D matrix, descending, in float64.

    They come from the eigenvalues of the smaller Gram matrix (``AᵀA`` or ``AAᵀ``), several times
    cheaper than an SVD; values below ~1e-8 of the largest lose relative accuracy, which neither
    rank notices.
    """
    a = features.detach().double()
    gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
    return torch.linalg.eigvalsh(gram).clamp_min(0).sqrt().flip(0)


def feature_ranks(features: torch.Tensor, delta: float = SRANK_DELTA) -> tuple[float, int]:
    """(effective rank, srank_δ) from one decomposition."""
    sigma = singular_values(features)
    return _effective_rank(sigma), _srank(sigma, delta)


def effective_rank(features: torch.Tensor) -> float:
    return _effective_rank(singular_values(features))


def stable_rank(features: torch.Tensor, delta: float = SRANK_DELTA) -> int:
    """srank_δ: the smallest k with ``Σ_{i≤k} σ_i ≥ (1 - δ) Σ_i σ_i``."""
    return _srank(singular_values(features), delta)


def _effective_rank(sigma: torch.Tensor) -> float:
    total = float(sigma.sum())
    if total <= 0:
        return 0.0
    p = sigma[sigma > 0] / total
    return math.exp(-float((p * p.log()).sum()))


def _srank(sigma: torch.Tensor, delta: float) -> int:
    total = sigma.sum()
    if total <= 0:
        return 0
    reached = torch.cumsum(sigma, 0) >= (1 - delta) * total
    return int(reached.nonzero()[0]) + 1
