"""Weight decay, decoupled from the optimiser (as in AdamW): after each step θ ← θ − lr·λ·θ.

Applied outside the optimiser so it means the same thing under Adam and SGD, and composes with
the other interventions without choosing a different optimiser class.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


@torch.no_grad()
def apply_weight_decay(params: Iterable[torch.Tensor], lr: float, weight_decay: float) -> None:
    for p in params:
        p.mul_(1.0 - lr * weight_decay)
