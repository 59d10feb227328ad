"""Every touch an intervention makes on an optimiser goes through here, so that a different
storage of the optimiser's state (several agents' states stacked in one tensor) needs only this
module adapted.

* ``state_tensors``: the optimiser's per-entry memory of one parameter (Adam's two moments, SGD's
  momentum buffer), the tensors shaped like the parameter;
* ``zero_state``: zero those tensors at an index (rows of a layer, columns, a mask);
* ``forget_state``: drop a parameter's memory entirely (moments and step count);
* ``swap_params``: the optimiser stops stepping some parameters and starts stepping others (a
  frozen head out, a fresh one in), with the first parameter group's hyperparameters.

Works on any ``torch.optim.Optimizer`` and on ``TRAC`` (which exposes its base optimiser's
``state`` and ``param_groups``).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def state_tensors(optimizer, param: torch.Tensor) -> list[torch.Tensor]:
    """The optimiser's per-entry state of ``param``; [] when it has none (yet) or no optimiser."""
    if optimizer is None:
        return []
    return [v for v in optimizer.state.get(param, {}).values() if torch.is_tensor(v) and v.shape == param.shape]


@torch.no_grad()
def zero_state(optimizer, param: torch.Tensor, index, view: tuple[int, ...] | None = None) -> None:
    """Zero the per-entry state of ``param`` at ``index``, seen through ``view`` if given (e.g.
    (out, units, -1) to reach a unit's columns). Shared counters (Adam's step) stay."""
    for value in state_tensors(optimizer, param):
        (value.view(*view) if view is not None else value)[index] = 0


@torch.no_grad()
def forget_state(optimizer, params: Iterable[torch.Tensor]) -> None:
    if optimizer is None:
        return
    for p in params:
        optimizer.state.pop(p, None)


def swap_params(optimizer, remove: Iterable[torch.Tensor], add: Iterable[torch.Tensor]) -> None:
    """Stop stepping ``remove`` (their state dropped) and start stepping ``add``."""
    if optimizer is None:
        return
    gone = {id(p) for p in remove}
    for group in optimizer.param_groups:
        group["params"] = [p for p in group["params"] if id(p) not in gone]
    for p in list(optimizer.state):
        if id(p) in gone:
            del optimizer.state[p]
    new = list(add)
    if new:
        options = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
        optimizer.add_param_group({"params": new, **options})


def stepped_params(optimizer) -> set[int]:
    """ids of the parameters the optimiser steps (for the invariant: trainable == stepped)."""
    return {id(p) for group in optimizer.param_groups for p in group["params"]}
