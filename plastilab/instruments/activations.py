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

The model keeps its mode; it runs on cloned buffers (batch-norm running statistics untouched)
and private random streams (dropout does not move the training loop's generator).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.func import functional_call

from plastilab.instruments.functional import cloned_buffers, isolated_rng, model_device, short_names
from plastilab.instruments.tensor_stats import as_units
from plastilab.models.concat_activations import CReLU, FourierFeatures

RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish)
SATURATING = (nn.Tanh, nn.Sigmoid)
# Two outputs per unit (the acts have twice the pre-activations' columns).
CONCATENATING = (CReLU, FourierFeatures)
MODULE_NAMES: dict[type[nn.Module], str] = {
    CReLU: "crelu", FourierFeatures: "dff",
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.LeakyReLU: "leaky_relu", nn.ELU: "elu", nn.CELU: "celu",
    nn.SELU: "selu", nn.GELU: "gelu", nn.SiLU: "silu", nn.Mish: "mish", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
}  # fmt: skip
# The functions a watched output goes through; "identity" takes the output as the units' values.
ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu, "relu6": F.relu6, "leaky_relu": F.leaky_relu, "elu": F.elu, "celu": F.celu,
    "selu": F.selu, "gelu": F.gelu, "silu": F.silu, "mish": F.mish, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "identity": lambda t: t,
}  # fmt: skip
# What torch.fx shows of a functional activation: call_function targets and call_method names.
TRACED_FUNCTIONS: dict[Callable, str] = {
    F.relu: "relu", torch.relu: "relu", F.relu_: "relu", torch.relu_: "relu", F.relu6: "relu6",
    F.leaky_relu: "leaky_relu", F.leaky_relu_: "leaky_relu", F.elu: "elu", F.elu_: "elu", F.celu: "celu",
    F.selu: "selu", torch.selu: "selu", F.gelu: "gelu", F.silu: "silu", F.mish: "mish", torch.tanh: "tanh",
    F.tanh: "tanh", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
}  # fmt: skip
TRACED_METHODS = {
    "relu": "relu", "relu_": "relu", "tanh": "tanh", "tanh_": "tanh", "sigmoid": "sigmoid", "sigmoid_": "sigmoid",
}  # fmt: skip

Trace = bool | Literal["auto"]
Watch = Sequence[str] | Mapping[str, str]


@dataclass(frozen=True)
class LayerActivity:
    """One activation's input and output on a batch, as (samples, units).

    ``module`` is the activation module, or None for a functional activation or a watched layer;
    ``activation`` names what it computes (``"relu"``, ``"tanh"``, ... or ``"identity"``).
    """

    name: str
    module: nn.Module | None
    preacts: torch.Tensor
    acts: torch.Tensor
    activation: str = ""

    def __post_init__(self) -> None:
        if not self.activation and self.module is not None:
            object.__setattr__(self, "activation", activation_name(self.module) or type(self.module).__name__)

    @property
    def units(self) -> int:
        return self.acts.shape[1]


def activation_name(module: nn.Module) -> str | None:
    """``"relu"`` for an ``nn.ReLU`` (or a subclass of it), ...; None for a module that is no activation."""
    return next((MODULE_NAMES[cls] for cls in type(module).__mro__ if cls in MODULE_NAMES), None)


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
        traced = _traced(model, inputs, seed)
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


def _run(model: nn.Module, inputs: torch.Tensor, seed: int) -> None:
    inputs = inputs.to(model_device(model))
    with torch.no_grad(), isolated_rng(seed, inputs.device):
        functional_call(model, cloned_buffers(model), (inputs,))


def _copy_units(t: torch.Tensor) -> torch.Tensor:
    """(samples, units) that no later in-place write can change."""
    units = as_units(t.detach())
    return units.clone() if units.data_ptr() == t.data_ptr() else units  # a reshape may already copy


class _Labels:
    """``name`` for a layer's first call, ``name#2`` for its second (a module used twice)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        self.calls[name] = self.calls.get(name, 0) + 1
        return name if self.calls[name] == 1 else f"{name}#{self.calls[name]}"


def _hooked(model, inputs, seed, modules: list[tuple[str, nn.Module]]) -> list[LayerActivity]:
    names = short_names([name for name, _ in modules])
    caught: list[LayerActivity] = []
    label = _Labels()
    pending: dict[int, list[torch.Tensor]] = {}

    def before(module, args):
        # Copied now: an in-place activation is about to overwrite this tensor.
        pending.setdefault(id(module), []).append(_copy_units(args[0]))

    def hook_for(name: str):
        def after(module, args, output):
            caught.append(LayerActivity(label(name), module, pending[id(module)].pop(), _copy_units(output)))

        return after

    handles = []
    for name, m in modules:
        handles.append(m.register_forward_pre_hook(before))
        handles.append(m.register_forward_hook(hook_for(names[name])))
    try:
        _run(model, inputs, seed)
    finally:
        for handle in handles:
            handle.remove()
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
    label = _Labels()

    def hook_for(name: str, kind: str):
        def after(module, args, output):
            pre = _copy_units(output)
            caught.append(LayerActivity(label(names[name]), None, pre, ACTIVATION_FUNCTIONS[kind](pre), kind))

        return after

    handles = [modules[name].register_forward_hook(hook_for(name, kind)) for name, kind in table.items()]
    try:
        _run(model, inputs, seed)
    finally:
        for handle in handles:
            handle.remove()
    return caught


# -- torch.fx ---------------------------------------------------------------------------------


def _activation_of(root: fx.GraphModule, node: fx.Node) -> tuple[str, nn.Module | None] | None:
    if node.op == "call_module":
        module = root.get_submodule(node.target)
        kind = activation_name(module)
        return (kind, module) if kind else None
    if node.op == "call_function":
        try:
            kind = TRACED_FUNCTIONS.get(node.target)
        except TypeError:  # an unhashable target
            kind = None
        return (kind, None) if kind else None
    if node.op == "call_method" and node.target in TRACED_METHODS:
        return TRACED_METHODS[node.target], None
    return None


def _layer_name(node: fx.Node, kind: str) -> str:
    """A module's own name; a function's is the module that feeds it plus the function (``fc1.relu``)."""
    if node.op == "call_module":
        return str(node.target)
    source = node.args[0] if node.args else None
    if isinstance(source, fx.Node) and source.op == "call_module":
        return f"{source.target}.{kind}"
    return node.name


class _RecordingInterpreter(fx.Interpreter):
    def __init__(self, graph_module: fx.GraphModule, found: dict[fx.Node, tuple[str, str, nn.Module | None]]):
        super().__init__(graph_module)
        self.found = found
        self.caught: list[LayerActivity] = []
        self.label = _Labels()

    def run_node(self, n: fx.Node):
        if n not in self.found:
            return super().run_node(n)
        name, kind, module = self.found[n]
        with self._set_current_node(n):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            x = args[0] if args else next(iter(kwargs.values()))
            pre = _copy_units(x)  # before the call: it may write in place
            out = getattr(self, n.op)(n.target, args, kwargs)
        self.caught.append(LayerActivity(self.label(name), module, pre, _copy_units(out), kind))
        return out


class _Interpreted(nn.Module):
    """Runs the traced graph node by node as this module's forward, so functional_call applies."""

    def __init__(self, graph_module: fx.GraphModule, found) -> None:
        super().__init__()
        self.graph_module = graph_module
        self.found = found
        self.caught: list[LayerActivity] = []

    def forward(self, inputs: torch.Tensor):
        interpreter = _RecordingInterpreter(self.graph_module, self.found)
        out = interpreter.run(inputs)
        self.caught = interpreter.caught
        return out


def _traced(model: nn.Module, inputs: torch.Tensor, seed: int) -> list[LayerActivity] | str:
    """The activations torch.fx finds, or why it could not trace the model."""
    try:
        graph_module = fx.symbolic_trace(model)
    except Exception as error:  # fx raises many kinds (TraceError, TypeError, ...) for untraceable code
        return f"torch.fx could not trace it ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
    found = {}
    for node in graph_module.graph.nodes:
        if (hit := _activation_of(graph_module, node)) is not None:
            found[node] = (_layer_name(node, hit[0]), *hit)
    if not found:
        return []
    # Modules are named as the hooks name them; a function keeps its feeding module's full name.
    names = short_names(dict.fromkeys(name for name, _, module in found.values() if module is not None))
    found = {node: (names.get(name, name), kind, module) for node, (name, kind, module) in found.items()}
    runner = _Interpreted(graph_module, found)
    _run(runner, inputs, seed)
    return runner.caught
