"""Shrink-and-perturb (Ash & Adams, 2020): θ ← λθ + (1−λ)·θ_target + σε, ε ~ N(0, I), for every
trainable parameter, with θ_target = 0 (the paper's form, ``target="zero"``) or the initial weights
θ₀ (``target="init"``, Plasticine's pull toward θ₀, there with σ = 0). The plan runs it at each
task change or every N steps (LoP's continual form: every step, λ = 1 − lr·wd, σ ≈ 1e-5)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


@torch.no_grad()
def shrink_and_perturb(
    model: nn.Module,
    shrink: float,
    noise_std: float,
    generator: torch.Generator | None = None,
    initial: Mapping[str, torch.Tensor] | None = None,
) -> None:
    """``initial`` (name → θ₀) switches the target from 0 to θ₀; frozen parameters are left alone."""
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        noise = torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device)
        p.mul_(shrink)
        if initial is not None and name in initial:
            p.add_(initial[name], alpha=1 - shrink)
        p.add_(noise, alpha=noise_std)
