"""Finding functional activations (``F.relu``, ``torch.tanh``, ``x.relu()``) with ``torch.fx``:
trace the model, mark the activation nodes, and run the graph node by node recording each one's
input and output. A model with data-dependent Python control flow cannot be traced.
"""

from __future__ import annotations

import torch
from torch import fx, nn

from plastilab.instruments.activation_capture import (
    TRACED_FUNCTIONS,
    TRACED_METHODS,
    CallLabels,
    LayerActivity,
    activation_name,
    copy_units,
    run_once,
)
from plastilab.instruments.functional import short_names


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
        self.label = CallLabels()

    def run_node(self, n: fx.Node):
        if n not in self.found:
            return super().run_node(n)
        name, kind, module = self.found[n]
        with self._set_current_node(n):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            x = args[0] if args else next(iter(kwargs.values()))
            pre = copy_units(x)  # before the call: it may write in place
            out = getattr(self, n.op)(n.target, args, kwargs)
        self.caught.append(LayerActivity(self.label(name), module, pre, copy_units(out), kind))
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


def traced_activity(model: nn.Module, inputs: torch.Tensor, seed: int) -> list[LayerActivity] | str:
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
    run_once(runner, inputs, seed)
    return runner.caught
