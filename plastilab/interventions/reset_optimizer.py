"""Reset the optimiser state at every task change: Adam starts its moments and its bias
correction afresh, as if the network had just been handed to a new optimiser."""

from __future__ import annotations

import torch


def reset_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    optimizer.state.clear()
