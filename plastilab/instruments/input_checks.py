"""One-line errors for inputs a model (or a loss) cannot take, raised before an instrument starts.

Without them a wrong shape surfaces deep inside ``vmap`` as ``RuntimeError: mat1 and mat2 shapes
cannot be multiplied``. Each check runs the model on the first two examples only, on cloned buffers
and private random streams, so it neither costs much nor disturbs training.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.utils._pytree import tree_leaves

from plastilab.core.errors import PlastilabError
from plastilab.instruments.functional import (
    LossFn,
    batch_size,
    cloned_buffers,
    isolated_rng,
    model_device,
    take,
    to_device,
)

CHECKED_EXAMPLES = 2


class ModelInputError(PlastilabError, ValueError):
    """The model or the loss cannot take the tensors given; the message is one line.

    ``original`` holds the exception PyTorch raised, if any.
    """

    exit_code = 2

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


def describe(tree: Any) -> str:
    """``(8, 3, 32, 32) float32``, or a tuple of those for a tuple of tensors."""
    if isinstance(tree, torch.Tensor):
        return f"({', '.join(str(s) for s in tree.shape)}) {str(tree.dtype).removeprefix('torch.')}"
    if isinstance(tree, (tuple, list)):
        return "(" + ", ".join(describe(t) for t in tree) + ")"
    return type(tree).__name__


def expected_input(model: nn.Module) -> str | None:
    """What the model's first weighted layer takes, e.g. ``(N, 3, H, W): its first layer conv1 (Conv2d)``."""
    flattened = False
    for name, module in model.named_modules():
        if isinstance(module, nn.Flatten):
            flattened = True
        shape = None
        if isinstance(module, nn.Linear) and module.in_features:
            width = module.in_features
            shape = f"(N, ...) flattening to {width} values" if flattened else f"(N, {width})"
        elif isinstance(module, nn.Conv1d):
            shape = f"(N, {module.in_channels}, L)"
        elif isinstance(module, nn.Conv2d):
            shape = f"(N, {module.in_channels}, H, W)"
        elif isinstance(module, nn.Conv3d):
            shape = f"(N, {module.in_channels}, D, H, W)"
        elif isinstance(module, nn.Embedding):
            shape = f"integer indices below {module.num_embeddings}"
        if shape is not None:
            return f"{shape}: its first layer {name or 'model'} ({type(module).__name__})"
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def check_model_input(model: nn.Module, inputs: Any, *, seed: int = 0) -> torch.Tensor:
    """Run ``model`` on the first examples of ``inputs`` and return its outputs.

    Raises :class:`ModelInputError` (one line: the shape given, PyTorch's complaint, and the input
    the model's first layer expects) when it cannot.
    """
    name = type(model).__name__
    if not isinstance(inputs, torch.Tensor) or inputs.dim() == 0:
        raise ModelInputError(f"inputs must be a tensor with a leading batch dimension; found {describe(inputs)}")
    device = model_device(model)
    try:
        with torch.no_grad(), isolated_rng(seed, device):
            return functional_call(model, cloned_buffers(model), (inputs[:CHECKED_EXAMPLES].to(device),))
    except (RuntimeError, ValueError, IndexError, TypeError, AssertionError) as error:
        expected = expected_input(model)
        hint = f"; {name} expects {expected}" if expected else ""
        message = f"{name} cannot take inputs of shape {describe(inputs)}: {_first_line(error)}{hint}"
        raise ModelInputError(message, error) from None


def check_batch(model: nn.Module, loss_fn: LossFn, batch: Any, *, seed: int = 0) -> None:
    """Check that ``batch = (inputs, targets)`` fits the model and that ``loss_fn`` returns one number."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ModelInputError(f"batch must be (inputs, targets); found {describe(batch)}")
    inputs, targets = batch
    outputs = check_model_input(model, inputs, seed=seed)
    leaves = [t for t in tree_leaves(targets) if isinstance(t, torch.Tensor)]
    if not leaves:
        raise ModelInputError(f"targets must be a tensor or a tuple of tensors; found {describe(targets)}")
    if any(t.dim() == 0 or len(t) != len(inputs) for t in leaves):
        raise ModelInputError(
            f"targets {describe(targets)} do not hold one row per example of inputs {describe(inputs)}"
        )
    sample = take(targets, slice(0, min(CHECKED_EXAMPLES, batch_size(targets))))
    try:
        loss = loss_fn(outputs, to_device(sample, model_device(model)))
    except (RuntimeError, ValueError, IndexError, TypeError, AssertionError) as error:
        given = f"outputs {describe(outputs)} and targets {describe(sample)}"
        message = f"loss_fn cannot take {given}: {_first_line(error)}"
        raise ModelInputError(message, error) from None
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ModelInputError(
            f"loss_fn must return one number (the batch's mean loss); it returned {describe(loss)}"
        )

