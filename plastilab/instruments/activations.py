"""Finding a network's hidden units: each activation's input (pre-activations) and output, on a batch.

Three ways, tried in this order by :func:`record_activity`:

* ``watch`` - you name the modules whose *outputs* feed an activation (``watch=["fc1", "fc2"]``
  for ``F.relu(self.fc1(x))``); the activation (``"relu"`` unless you say otherwise, e.g.
  ``watch={"fc1": "relu", "fc2": "tanh"}``) is applied to those outputs to get the units' values.
  Works for any model, traceable or not.
* hooks on activation *modules* (``nn.ReLU``, ``nn.Tanh``, ...). The input is copied in a
  forward *pre*-hook, before the module runs: an in-place ReLU (torchvision's default) overwrites
  its input, so a copy taken afterwards would show the activations as the pre-activations.
* ``torch.fx`` tracing, for models that call activations as functions (``F.relu``,
  ``torch.tanh``, ``x.relu()``): used when no activation module is found (``trace="auto"``) or
  always (``trace=True``). A model with data-dependent Python control flow cannot be traced.

When none of them finds anything, :func:`record_activity` warns (naming ``watch``, the fix) and
returns an empty list: unit statistics are never silently empty.

The torch.fx way is ``activation_tracing``; what all three share, ``activation_capture``.
The model keeps its mode; it runs on cloned buffers (batch-norm running statistics untouched)
and private random streams (dropout does not move the training loop's generator).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from torch import nn

from plastilab.instruments.activation_capture import (
    ACTIVATION_FUNCTIONS,
    CONCATENATING,
    RELU_LIKE,
    SATURATING,
    CallLabels,
    LayerActivity,
    copy_units,
    run_with_hooks,
)
from plastilab.instruments.activation_tracing import traced_activity
from plastilab.instruments.functional import short_names

Trace = bool | Literal["auto"]
Watch = Sequence[str] | Mapping[str, str]


def record_activity(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    seed: int = 0,
    watch: Watch | None = None,
    activation: str = "relu",
    trace: Trace = "auto",
) -> list[LayerActivity]:
    """Run ``model`` once on ``inputs`` and return every activation's activity, in call order.

    ``watch`` names modules whose outputs feed an activation (``activation``, or per module in a
    mapping); without it, activation modules are hooked and, if there are none (or ``trace`` is
    True), the model is traced with ``torch.fx`` to find functional activations.
    """
    if watch is not None:
        return _watched(model, inputs, seed, _watch_table(model, watch, activation))
    modules = [(name, m) for name, m in model.named_modules() if isinstance(m, RELU_LIKE + SATURATING + CONCATENATING)]
    if modules and trace is not True:
        return _hooked(model, inputs, seed, modules)
    why = [] if modules else ["it has no activation modules (nn.ReLU, nn.Tanh, ...)"]
    if trace is not False:
        traced = traced_activity(model, inputs, seed)
        if isinstance(traced, list) and traced:
            return traced
        why.append(traced if isinstance(traced, str) else "torch.fx found no activation function in it")
    warnings.warn(
        f"plastilab: found no activations in {type(model).__name__}: {', and '.join(why)}; pass "
        "watch=['fc1', ...] naming the modules whose outputs feed its activations (and activation='tanh' "
        "etc. if not ReLU)",
        stacklevel=2,
    )
    return []


# -- hooks on activation modules --------------------------------------------------------------


def _hooked(model, inputs, seed, modules: list[tuple[str, nn.Module]]) -> list[LayerActivity]:
    names = short_names([name for name, _ in modules])
    caught: list[LayerActivity] = []
    label = CallLabels()
    pending: dict[int, list[torch.Tensor]] = {}

    def before(module, args):
        # Copied now: an in-place activation is about to overwrite this tensor.
        pending.setdefault(id(module), []).append(copy_units(args[0]))

    def hook_for(name: str):
        def after(module, args, output):
            caught.append(LayerActivity(label(name), module, pending[id(module)].pop(), copy_units(output)))

        return after

    handles = []
    for name, m in modules:
        handles.append(m.register_forward_pre_hook(before))
        handles.append(m.register_forward_hook(hook_for(names[name])))
    run_with_hooks(model, inputs, seed, handles)
    return caught


# -- watched outputs --------------------------------------------------------------------------


def _watch_table(model: nn.Module, watch: Watch, activation: str) -> dict[str, str]:
    table = dict(watch) if isinstance(watch, Mapping) else {name: activation for name in watch}
    if isinstance(watch, str) or not table:
        raise ValueError(f"watch: give a list of module names, e.g. watch=['fc1', 'fc2'] (found {watch!r})")
    known = dict(model.named_modules())
    for name, kind in table.items():
        if name not in known:
            close = difflib.get_close_matches(name, [n for n in known if n], n=5, cutoff=0.3) or list(known)[1:6]
            model_name = type(model).__name__
            raise ValueError(f"watch: {model_name} has no module {name!r}; modules include: {', '.join(close)}")
        if kind not in ACTIVATION_FUNCTIONS:
            allowed = ", ".join(ACTIVATION_FUNCTIONS)
            raise ValueError(f"watch: activation {kind!r} of {name!r} unknown; allowed: {allowed}")
    return table


def _watched(model, inputs, seed, table: dict[str, str]) -> list[LayerActivity]:
    modules = dict(model.named_modules())
    names = short_names(table)
    caught: list[LayerActivity] = []
    label = CallLabels()

    def hook_for(name: str, kind: str):
        def after(module, args, output):
            pre = copy_units(output)
            caught.append(LayerActivity(label(names[name]), None, pre, ACTIVATION_FUNCTIONS[kind](pre), kind))

        return after

    handles = [modules[name].register_forward_hook(hook_for(name, kind)) for name, kind in table.items()]
    run_with_hooks(model, inputs, seed, handles)
    return caught
