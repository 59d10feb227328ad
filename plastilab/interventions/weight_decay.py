"""Weight decay, decoupled (as in AdamW, the default) or coupled (an L2 term in the loss, as
``Adam(weight_decay=λ)`` in Plasticine and SGD's ``weight_decay`` in LoP).

* decoupled: after each step θ ← θ − lr·λ·θ, outside the optimiser, so it means the same thing
  under Adam and SGD and composes with the other interventions;
* coupled: the loss gains (λ/2)·Σ‖θ‖², so the gradient gains λθ, which Adam then rescales per
  entry like the rest of the gradient (under Adam the two forms differ; under plain SGD they
  are equal).

Frozen parameters (an injected head's old part) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


@torch.no_grad()
def apply_weight_decay(params: Iterable[torch.Tensor], lr: float, weight_decay: float) -> None:
    for p in params:
        if p.requires_grad:
            p.mul_(1.0 - lr * weight_decay)


def coupled_weight_decay_penalty(params: Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor:
    return 0.5 * weight_decay * sum(p.square().sum() for p in params if p.requires_grad)
