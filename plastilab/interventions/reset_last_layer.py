"""Reset the last layer at every task change: the head gets fresh initial weights and the
optimiser forgets its moments for them; every other layer is left exactly as it was."""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.reinit import forget_optimizer_state, reinitialise


def reset_last_layer(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
    head = model.head
    reinitialise(head)
    forget_optimizer_state(optimizer, head.parameters())
