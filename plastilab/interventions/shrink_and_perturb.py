"""Shrink-and-perturb (Ash & Adams, 2020) at a task change: θ ← λθ + σε, ε ~ N(0, I),
for every parameter of the model."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def shrink_and_perturb(model: nn.Module, shrink: float, noise_std: float, generator: torch.Generator | None = None) -> None:
    for p in model.parameters():
        noise = torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device)
        p.mul_(shrink).add_(noise, alpha=noise_std)
