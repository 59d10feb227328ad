"""The coupled Brownian copy of paper §3.2: parameter drift without gradient descent.

Beside the TD-trained network runs a copy, started from the same initial parameters, that after
every optimiser step takes a random step of exactly the same size. Both travel the same distance
per step; only the direction differs. Comparing the two separates what gradient descent does to
the network (e.g. moving it into sharper, less plastic regions) from what any drift of that size
would do.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class BrownianCopy:
    """A copy of ``network`` moved by random steps whose norm matches each update of the original.

    The match is per parameter tensor: each tensor of the copy moves by a Gaussian direction scaled
    to the norm of that tensor's update, so each layer drifts as far as its trained twin did, and
    the whole-network step norm matches too (the squared norms add up the same).
    """

    def __init__(self, network: nn.Module, seed: int = 0) -> None:
        # It never takes a gradient step, but its parameters stay "trainable" so the instruments
        # (which measure what an optimiser would move) see it exactly as they see the original.
        self.network = copy.deepcopy(network)
        device = next(network.parameters()).device
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.last_step_norm = 0.0

    def state_dict(self) -> dict:
        return {"network": self.network.state_dict(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.network.load_state_dict(state["network"])
        self.generator.set_state(state["generator"])

    @staticmethod
    def snapshot(network: nn.Module) -> list[torch.Tensor]:
        """The parameters of ``network`` now: call before the optimiser step you will match."""
        return [p.detach().clone() for p in network.parameters()]

    @torch.no_grad()
    def step_like(self, before: list[torch.Tensor], network: nn.Module) -> None:
        """Take a random step with, tensor by tensor, the norm of ``network``'s step since ``before``."""
        squared = 0.0
        for mine, old, new in zip(self.network.parameters(), before, network.parameters(), strict=True):
            norm = torch.linalg.vector_norm(new.detach() - old)
            direction = torch.randn(mine.shape, generator=self.generator, device=mine.device, dtype=mine.dtype)
            # a zero draw is impossible in practice; the clamp only keeps a 1-element tensor finite
            mine.add_(direction * (norm / torch.linalg.vector_norm(direction).clamp_min(1e-30)))
            squared = squared + norm.square()
        self.last_step_norm = squared  # a tensor: read it only when you log, to avoid a sync per step
