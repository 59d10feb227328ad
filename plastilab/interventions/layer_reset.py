"""Resets of whole layers (Nikishin et al., 2022; Dohare et al.'s "retrained network" baseline):

* ``reset_last_layers(model, optimizer, k)``: the last k Linear/Conv layers in model order (the
  head counts as one) get fresh initial values and the optimiser forgets them;
* ``full_reset(model, optimizer, fresh)``: every parameter and buffer takes the values of a freshly
  built network of the same architecture, and the optimiser forgets everything.

Both edit the parameters in place, so the optimiser keeps stepping the same tensors.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.optimizer_state import forget_state
from plastilab.interventions.reinit import reinitialise
from plastilab.models.units import WEIGHTED


def reset_last_layers(model: nn.Module, optimizer, k: int) -> list[str]:
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHTED)]
    chosen = layers[-k:]
    for _, module in chosen:
        reinitialise(module)
        forget_state(optimizer, module.parameters())
    return [name for name, _ in chosen]


def _plain(name: str) -> str:
    """A parametrised weight's name as the unparametrised network spells it."""
    return name.replace("parametrizations.", "").replace(".original", "")


@torch.no_grad()
def full_reset(model: nn.Module, optimizer, fresh: nn.Module) -> None:
    new = {_plain(n): t for n, t in [*fresh.named_parameters(), *fresh.named_buffers()]}
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        source = new.get(_plain(name))
        if source is not None and source.shape == t.shape:
            t.copy_(source)
    if optimizer is not None:
        optimizer.state.clear()
