"""L2-Init (Kumar et al., 2023): regularise toward the initial weights, not toward zero.

The loss gains ``coefficient · Σ ||θ − θ₀||²`` where θ₀ is the parameters when ``L2Init`` was made.
"""

from __future__ import annotations

import torch
from torch import nn


class L2Init:
    def __init__(self, model: nn.Module, coefficient: float) -> None:
        self.coefficient = coefficient
        self.initial = {name: p.detach().clone() for name, p in model.named_parameters()}

    def penalty(self, model: nn.Module) -> torch.Tensor:
        # A parameter born later (an injected head) or frozen has no θ₀ to return to.
        total = sum(
            ((p - self.initial[name]) ** 2).sum()
            for name, p in model.named_parameters()
            if name in self.initial and p.requires_grad
        )
        return self.coefficient * total
