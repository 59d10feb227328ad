"""Plasticity injection (Nikishin et al., 2023): a fresh head, without changing the function.

At injection the head θ is frozen, a fresh head θ′ is drawn and a frozen copy θ″ = θ′ kept:

    output = h_θ(φ) + h_θ′(φ) − h_θ″(φ)

which equals h_θ(φ) at that moment. Only θ′ (and the body) trains from then on: the frozen heads
leave the optimiser and θ′ joins it (Plasticine's version builds the new head but never gives it
to the optimiser, so it never trains; here the trainable set and the optimised set are equal by
construction). Injecting again wraps the injected head, frozen whole, as the next θ.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from plastilab.interventions.optimizer_state import swap_params
from plastilab.interventions.reinit import fresh_like


class InjectedHead(nn.Module):
    def __init__(self, old: nn.Module, fresh: nn.Module) -> None:
        super().__init__()
        self.old, self.fresh, self.copy = old, fresh, copy.deepcopy(fresh)
        for p in [*self.old.parameters(), *self.copy.parameters()]:
            p.requires_grad_(False)
            p.grad = None  # a stale gradient of the old head would count in gradient norms forever

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.old(x) + self.fresh(x) - self.copy(x)

    def weighted_parts(self) -> list[tuple[nn.Module, float]]:
        """The Linear layers whose outputs the head sums, with their signs (unit surgery edits
        the columns of all of them)."""
        from plastilab.interventions.unit_surgery import weighted_parts  # deferred: pulls in torch

        return [*weighted_parts(self.old), (self.fresh, 1.0), (self.copy, -1.0)]


def inject_plasticity(model: nn.Module, optimizer, head: str = "head") -> InjectedHead:
    """Replace ``model.<head>`` by an injected head and hand its fresh part to ``optimizer``."""
    old = getattr(model, head)
    base = old.fresh if isinstance(old, InjectedHead) else old
    fresh = fresh_like(base)
    injected = InjectedHead(old, fresh)
    setattr(model, head, injected)
    swap_params(optimizer, remove=list(old.parameters()), add=list(fresh.parameters()))
    return injected
