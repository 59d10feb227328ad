"""Small helpers every instrument shares: parameters as tensors, flat vectors, private randomness.

Instruments look at a training network without disturbing it. Three rules keep them honest:
read parameters as detached tensors, run the module through ``torch.func.functional_call`` with
*cloned* buffers (so batch norm's running statistics are never written), and draw any randomness
(dropout masks, probe vectors) inside :func:`isolated_rng`, which leaves the global streams where
training left them.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._pytree import tree_map

Params = dict[str, torch.Tensor]
# loss_fn(outputs, targets) -> scalar; targets is a tensor or a tuple of tensors (a TD loss
# passes (actions, td_targets)), each with a leading batch dimension.
LossFn = Callable[[torch.Tensor, Any], torch.Tensor]


def trainable_params(model: nn.Module) -> Params:
    """The parameters the optimiser moves, detached (a view, not a copy)."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def snapshot_params(model: nn.Module) -> Params:
    """A copy of the trainable parameters, e.g. θ_0 for the distance from initialisation."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def cloned_buffers(model: nn.Module) -> Params:
    return {name: b.clone() for name, b in model.named_buffers()}


def model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def flatten(tensors: Mapping[str, torch.Tensor], batch_dims: int = 0) -> torch.Tensor:
    """Concatenate tensors into one vector, keeping ``batch_dims`` leading dimensions."""
    return torch.cat([t.reshape(*t.shape[:batch_dims], -1) for t in tensors.values()], dim=-1)


def unflatten(vector: torch.Tensor, like: Mapping[str, torch.Tensor]) -> Params:
    """Split a flat vector back into tensors shaped like ``like``."""
    sizes = [t.numel() for t in like.values()]
    pieces = vector.split(sizes, dim=-1)
    return {name: piece.reshape(*vector.shape[:-1], *t.shape) for (name, t), piece in zip(like.items(), pieces)}


def take(tree: Any, index: torch.Tensor | slice) -> Any:
    """Index the leading (batch) dimension of a tensor or a tuple/list/dict of tensors."""
    return tree_map(lambda t: t[index] if isinstance(t, torch.Tensor) else t, tree)


def spread(batch: tuple[torch.Tensor, Any], n: int) -> tuple[tuple[torch.Tensor, Any], torch.Tensor | None]:
    """``n`` examples of ``(inputs, targets)`` spread evenly over it, and their index (None: all).

    A batch ordered by class or task keeps every label in proportion; its first ``n`` examples
    would hold only the first labels (one class, on the Adam scenario's sorted images).
    """
    size = batch_size(batch[0])
    if n >= size:
        return batch, None
    index = torch.arange(n) * size // n  # strictly increasing, since n < size
    return take(batch, index.to(batch[0].device)), index


def to_device(tree: Any, device: torch.device) -> Any:
    return tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, tree)


def batch_size(tree: Any) -> int:
    if isinstance(tree, torch.Tensor):
        return tree.shape[0]
    for leaf in tree.values() if isinstance(tree, Mapping) else tree:
        return batch_size(leaf)
    raise ValueError("targets hold no tensor")


@contextlib.contextmanager
def isolated_rng(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run a block on private random streams seeded with ``seed``; restore the global ones after.

    Covers the CPU generator and, for a CUDA device, that device's generator, so dropout inside
    the block neither consumes nor depends on the training loop's randomness. (An MPS device's
    generator is not covered.)
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    index = device.index if device.index is not None else (torch.cuda.current_device() if cuda else 0)
    with torch.random.fork_rng(devices=[index] if cuda else [], device_type="cuda"):
        torch.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


def same_state(a: Params, b: Params) -> bool:
    """Bit-for-bit the same parameters and buffers, under the same names."""
    return a.keys() == b.keys() and all(
        x.shape == y.shape and x.dtype == y.dtype and x.device == y.device and torch.equal(x, y)
        for x, y in ((a[k], b[k]) for k in a)
    )


def loss_gradient(model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], seed: int) -> Params:
    """The loss gradient on ``batch``, without touching ``.grad`` or running statistics."""
    twin = private_copy(model)
    buffers = dict(twin.named_buffers())
    inputs, targets = to_device(batch, model_device(model))

    def loss(params):
        return loss_fn(functional_call(twin, (params, buffers), (inputs,)), targets)

    with isolated_rng(seed, model_device(model)):
        return grad(loss)(trainable_params(model))


def twice_differentiable() -> contextlib.AbstractContextManager:
    """Scaled-dot-product attention on its math kernel, the one with a second derivative."""
    return sdpa_kernel([SDPBackend.MATH])


def private_copy(model: nn.Module) -> nn.Module:
    """A deep copy in the model's own modes, power iterations frozen, that never writes a buffer.

    A batch norm in eval mode keeps its running statistics (copied, so the original is never
    touched) and normalises with them, as the model does. One in train mode drops them:
    torch.func transforms cannot write running statistics in place, and without them a train-mode
    batch norm normalises with the batch's own statistics, exactly as in a training step.
    """
    twin = copy.deepcopy(model)
    freeze_power_iterations(twin)
    for p in twin.parameters():
        p.grad = None  # the copy needs no gradients of its own
    for module in twin.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return twin


def freeze_power_iterations(model: nn.Module) -> None:
    """Put spectral-norm parametrisations in eval mode: σ = uᵀWv with the vectors they have.

    In train mode they refine u and v in place at every call, which vmap cannot batch and which
    would make the function an instrument measures drift from one evaluation to the next.
    """
    spectral = getattr(torch.nn.utils.parametrizations, "_SpectralNorm", None)
    for module in model.modules():
        if spectral is not None and isinstance(module, spectral):
            module.eval()


def short_names(names: Iterable[str]) -> dict[str, str]:
    """``body.fc1`` -> ``fc1`` where the last part is unique, else the full dotted name."""
    names = list(names)
    last = [n.rsplit(".", 1)[-1] for n in names]
    return {n: (s if last.count(s) == 1 and s else n or "model") for n, s in zip(names, last)}
