"""Interference between examples: cosine similarity of per-example gradients (paper §3, Fig. 5).

Per-example gradients come from torch.func, ``vmap`` of ``grad`` of the loss on one example. The
examples are sorted by label (class or task, stable), so the Gram matrix shows one block per label:
bright off-diagonal blocks mean that learning one class drags the others along.

Each example goes through the model alone, so a batch-norm layer in train mode (which mixes the
examples of a batch) is refused: put the model in eval mode for this measurement. Dropout stays on,
with masks drawn from a private stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.utils._pytree import tree_map

from plastilab.instruments.functional import (
    LossFn,
    cloned_buffers,
    flatten,
    isolated_rng,
    model_device,
    take,
    to_device,
    trainable_params,
)


@dataclass(frozen=True)
class CovarianceResult:
    matrix: np.ndarray  # (n, n) cosine similarities, rows ordered by label
    labels: np.ndarray | None  # (n,) the label of each row, or None when none was given
    mean_similarity: float  # mean over off-diagonal entries
    within_class_similarity: float | None  # mean over pairs i != j with the same label
    across_class_similarity: float | None  # mean over pairs with different labels


def per_example_gradients(model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], *, seed: int = 0) -> torch.Tensor:
    """Gradients of ``loss_fn`` on each example alone, flattened: ``(n, n_params)``."""
    train_bn = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    if train_bn:
        raise ValueError("per-example gradients need batch norm in eval mode: it mixes the examples of a batch in train mode")
    device = model_device(model)
    params = trainable_params(model)
    buffers = cloned_buffers(model)
    inputs, targets = to_device(batch, device)

    def loss_one(p, x, t):
        x1, t1 = tree_map(lambda a: a.unsqueeze(0) if isinstance(a, torch.Tensor) else a, (x, t))
        return loss_fn(functional_call(model, (p, buffers), (x1,)), t1)

    with isolated_rng(seed, device):
        grads = vmap(grad(loss_one), in_dims=(None, 0, 0), randomness="different")(params, inputs, targets)
    return flatten(grads, batch_dims=1)


def gradient_covariance(
    model: nn.Module,
    loss_fn: LossFn,
    batch: tuple[torch.Tensor, Any],
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    seed: int = 0,
) -> CovarianceResult:
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
