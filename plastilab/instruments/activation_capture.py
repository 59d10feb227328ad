"""What every way of finding a network's units shares: which modules and functions are
activations, ``LayerActivity`` (one activation's input and output on a batch), and running the
model once without disturbing it (cloned buffers, private random streams, hooks removed after).
``activations.record_activity`` is the entry point; ``activation_tracing`` the ``torch.fx`` way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.utils.hooks import RemovableHandle

from plastilab.instruments.functional import cloned_buffers, isolated_rng, model_device
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


def run_once(model: nn.Module, inputs: torch.Tensor, seed: int) -> None:
    """One forward pass on cloned buffers and private random streams, without gradients."""
    inputs = inputs.to(model_device(model))
    with torch.no_grad(), isolated_rng(seed, inputs.device):
        functional_call(model, cloned_buffers(model), (inputs,))


def copy_units(t: torch.Tensor) -> torch.Tensor:
    """(samples, units) that no later in-place write can change."""
    units = as_units(t.detach())
    return units.clone() if units.data_ptr() == t.data_ptr() else units  # a reshape may already copy


class CallLabels:
    """``name`` for a layer's first call, ``name#2`` for its second (a module used twice)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        self.calls[name] = self.calls.get(name, 0) + 1
        return name if self.calls[name] == 1 else f"{name}#{self.calls[name]}"


def run_with_hooks(model: nn.Module, inputs: torch.Tensor, seed: int, handles: list[RemovableHandle]) -> None:
    """``run_once``, then remove the hooks ``handles`` hold (whether or not the pass succeeds)."""
    try:
        run_once(model, inputs, seed)
    finally:
        for handle in handles:
            handle.remove()
