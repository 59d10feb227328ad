"""Interference between examples: cosine similarity of per-example gradients (paper §3, Fig. 5).

Per-example gradients come from torch.func, ``vmap`` of ``grad`` of the loss on one example. The
examples are sorted by label (class or task, stable), so the Gram matrix shows one block per label:
bright off-diagonal blocks mean that learning one class drags the others along.

Each example goes through the model alone; with batch norm in train mode, which mixes the
examples of a batch, each row is instead that example's loss gradient within the batch (see
:func:`per_example_gradients`). Dropout stays on, with masks drawn from a private stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vjp, vmap
from torch.utils._pytree import tree_map

from plastilab.instruments.functional import (
    LossFn,
    flatten,
    isolated_rng,
    model_device,
    private_copy,
    take,
    to_device,
    trainable_params,
)


# The class or task of each example, in the batch's order (None: no labels).
Labels = torch.Tensor | np.ndarray | None


@dataclass(frozen=True)
class CovarianceResult:
    matrix: np.ndarray  # (n, n) cosine similarities, rows ordered by label
    labels: np.ndarray | None  # (n,) the label of each row, or None when none was given
    mean_similarity: float  # mean over off-diagonal entries
    within_class_similarity: float | None  # mean over pairs i != j with the same label
    across_class_similarity: float | None  # mean over pairs with different labels


def per_example_gradients(
    model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], *, seed: int = 0
) -> torch.Tensor:
    """Gradients of ``loss_fn`` on each example, flattened: ``(n, n_params)``.

    Each example goes through the model alone (``vmap`` of ``grad``), except in a model whose
    batch norm is in train mode: there examples interact through the batch statistics, so row i
    is the gradient of example i's loss within the batch's forward pass (a row of the Jacobian of
    the per-example losses; n backward passes of the whole batch, so slower).
    """
    device = model_device(model)
    params = trainable_params(model)
    inputs, targets = to_device(batch, device)
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
        with isolated_rng(seed, device):
            return _rows_of_the_loss_jacobian(model, loss_fn, params, inputs, targets)
    # A private copy in the model's modes: an eval-mode batch norm normalises with (copies of) its
    # running statistics, spectral norm's power iteration is frozen (vmap cannot batch its writes).
    twin = private_copy(model)
    buffers = dict(twin.named_buffers())

    def loss_one(p, x, t):
        x1, t1 = _one_example_batch((x, t))
        return loss_fn(functional_call(twin, (p, buffers), (x1,)), t1)

    with isolated_rng(seed, device):
        grads = vmap(grad(loss_one), in_dims=(None, 0, 0), randomness="different")(params, inputs, targets)
    return flatten(grads, batch_dims=1)


def _rows_of_the_loss_jacobian(model, loss_fn, params, inputs, targets) -> torch.Tensor:
    twin = private_copy(model)  # batch norm on batch statistics, running ones untouched
    buffers = dict(twin.named_buffers())

    def example_losses(p):
        outputs = functional_call(twin, (p, buffers), (inputs,))
        return vmap(lambda o, t: loss_fn(*_one_example_batch((o, t))))(outputs, targets)

    losses, pullback = vjp(example_losses, params)
    rows = vmap(pullback)(torch.eye(len(losses), device=losses.device, dtype=losses.dtype))[0]
    return flatten(rows, batch_dims=1)


def _one_example_batch(tree: Any) -> Any:
    return tree_map(lambda a: a.unsqueeze(0) if isinstance(a, torch.Tensor) else a, tree)


def gradient_covariance(model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], labels: Labels = None, *, seed: int = 0) -> CovarianceResult:
    """The normalised Gram matrix of per-example gradients and its summary numbers."""
    inputs, targets = batch
    label_array = None
    if labels is not None:
        label_array = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
        order = np.argsort(label_array, kind="stable")
        index = torch.as_tensor(order, device=inputs.device)
        inputs, targets = take((inputs, targets), index)
        label_array = label_array[order]
    g = per_example_gradients(model, loss_fn, (inputs, targets), seed=seed).double()
    norms = g.norm(dim=1)
    unit = g / norms.clamp_min(1e-30).unsqueeze(1)  # a zero gradient is similar to nothing
    matrix = (unit @ unit.T).cpu().numpy()
    n = matrix.shape[0]
    off = ~np.eye(n, dtype=bool)
    within = across = None
    if label_array is not None:
        same = label_array[:, None] == label_array[None, :]
        within = _mean(matrix[same & off])
        across = _mean(matrix[~same])
    return CovarianceResult(matrix, label_array, _mean(matrix[off]), within, across)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None
