"""Exact Hessian-vector products of a training loss, by whichever way is fastest on this machine.

Three ways to compute ``H v``, all exact (they differ by float rounding only):

* ``reverse-over-reverse`` - the gradient is computed once with ``create_graph=True`` and its graph
  is kept; each product is one more backward pass through it (PyHessian's way). One vector at a
  time; several vectors go through it one after another.
* ``reverse-over-reverse, batched`` - the same kept graph, several vectors in one backward pass
  (``torch.autograd.grad(..., is_grads_batched=True)``, a vmap over the backward).
* ``forward-over-reverse`` - ``jvp`` of ``grad`` through torch.func, several vectors in one vmap.
  It rebuilds the gradient every time but batches well where small products are launch-bound
  (typically a GPU). A loss whose backward has no forward-mode rule (``huber_loss``) cannot use it.

Which is fastest depends on the model, the batch, the number of vectors and the device, so it is
measured rather than assumed: the first time a model of a given shape asks for ``b`` vectors on a
device, each way runs a few products and the fastest is kept for the rest of the process
(:data:`CHOICES`; :attr:`HessianProducts.measurements` says what was measured in this object).

The kept graph holds the forward activations and the gradient's graph; :meth:`release` frees it,
and the instruments release it at the end of every measurement.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vmap
from torch.utils._pytree import tree_flatten, tree_unflatten

from plastilab.instruments.functional import (
    LossFn,
    isolated_rng,
    model_device,
    private_copy,
    to_device,
    trainable_params,
    twice_differentiable,
)

ONE_BY_ONE = "reverse-over-reverse"
BATCHED = "reverse-over-reverse, batched"
FORWARD = "forward-over-reverse"
METHODS = (ONE_BY_ONE, BATCHED, FORWARD)
TIMED_REPEATS = 3  # timed runs per candidate (the fastest counts: robust to a busy machine), after a warm-up

# (model signature, batch shape, device, number of vectors) -> the fastest method measured there.
CHOICES: dict[tuple[str, int], str] = {}  # (model/batch signature, vector count) -> method


class HessianProducts:
    """``H v`` for the loss ``loss_fn(model(inputs), targets)`` at the model's current parameters.

    ``method`` forces one of :data:`METHODS` (else each vector count is timed on first use).
    Vectors are flat, ordered as ``model.named_parameters()`` (trainable ones only).
    """

    def __init__(
        self, model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], *, seed: int = 0,
        method: str | None = None,
    ) -> None:
        if method is not None and method not in METHODS:
            raise ValueError(f"method {method!r}: allowed {', '.join(METHODS)}")
        self.device = model_device(model)
        self.seed = seed
        self.forced = method
        self.params = {k: v.clone() for k, v in trainable_params(model).items()}
        self.sizes = [t.numel() for t in self.params.values()]
        self.n_params = sum(self.sizes)
        self.dtype = next(iter(self.params.values())).dtype
        twin = private_copy(model)
        buffers = dict(twin.named_buffers())
        inputs, targets = to_device(batch, self.device)
        # As text: a run's checkpoint keeps the choices made (see ``choices_state``).
        self._signature = repr((
            repr(model), tuple((k, tuple(v.shape), v.dtype) for k, v in self.params.items()),
            tuple(inputs.shape), getattr(loss_fn, "__qualname__", repr(loss_fn)), str(self.device),
        ))
        # Float targets enter jvp as primals with explicit zero tangents: left as constants they
        # reach some losses' backward (mse_loss) as immutable zero tensors, which then fails.
        leaves, spec = tree_flatten(targets)
        floats = [i for i, t in enumerate(leaves) if isinstance(t, torch.Tensor) and t.is_floating_point()]
        self._float_targets = tuple(leaves[i] for i in floats)
        self._zero_tangents = tuple(torch.zeros_like(t) for t in self._float_targets)

        def loss(params, float_targets=self._float_targets):
            full = list(leaves)
            for i, t in zip(floats, float_targets):
                full[i] = t
            return loss_fn(functional_call(twin, (params, buffers), (inputs,)), tree_unflatten(full, spec))

        self._loss = loss
        self._gradient = grad(loss)
        self._forward_many = vmap(self._forward_over_reverse, randomness="same")
        self._graph: tuple[list[torch.Tensor], list[torch.Tensor], list[int]] | None = None
        self.method = method  # the method of the latest product
        self.measurements: list[str] = []  # one line per timing made by this object

    # -- the three ways --------------------------------------------------------------------------

    def _forward_over_reverse(self, vector: torch.Tensor) -> torch.Tensor:
        tangents = (self._unflatten(vector), self._zero_tangents)
        return _flat(jvp(self._gradient, (self.params, self._float_targets), tangents)[1].values(), 0)

    def _kept_graph(self) -> tuple[list[torch.Tensor], list[torch.Tensor], list[int]]:
        """The gradient with its graph, built once: (leaves, gradients, indices that depend on θ)."""
        if self._graph is None:
            leaves = [p.detach().requires_grad_() for p in self.params.values()]
            with torch.enable_grad(), isolated_rng(self.seed, self.device), twice_differentiable():
                value = self._loss(dict(zip(self.params, leaves)))
                grads = torch.autograd.grad(value, leaves, create_graph=True, materialize_grads=True)
            live = [i for i, g in enumerate(grads) if g.requires_grad]  # the rest: zero Hessian rows
            self._graph = (leaves, list(grads), live)
        return self._graph

    def _reverse_over_reverse(self, vectors: torch.Tensor, batched: bool) -> torch.Tensor:
        leaves, grads, live = self._kept_graph()
        if not live:
            return torch.zeros_like(vectors)
        pieces = vectors.split(self.sizes, dim=-1)
        lead = vectors.shape[:-1]
        tangents = [pieces[i].reshape(*lead, *leaves[i].shape) for i in live]
        products = torch.autograd.grad(
            [grads[i] for i in live], leaves, grad_outputs=tangents, retain_graph=True,
            is_grads_batched=batched, materialize_grads=True,
        )
        return _flat(products, len(lead))

    def _run(self, method: str, vectors: torch.Tensor) -> torch.Tensor:
        with isolated_rng(self.seed, self.device), twice_differentiable(), warnings.catch_warnings():
            # torch's forward AD loads its decompositions through torch.jit.script, which warns.
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
            if method == FORWARD:
                return self._forward_many(vectors) if vectors.dim() == 2 else self._forward_over_reverse(vectors)
            if method == BATCHED and vectors.dim() == 2:
                return self._reverse_over_reverse(vectors, batched=True)
            if vectors.dim() == 2:
                return torch.stack([self._reverse_over_reverse(v, batched=False) for v in vectors])
            return self._reverse_over_reverse(vectors, batched=False)

    # -- choosing ------------------------------------------------------------------------------------

    def __call__(self, vectors: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat vector ``(n_params,)``, or row by row for a batch ``(b, n_params)``."""
        if vectors.dim() == 2 and vectors.shape[0] == 1:
            return self(vectors[0]).unsqueeze(0)
        method = self.forced or self._choice(vectors)
        try:
            out = self._run(method, vectors)
        except (RuntimeError, NotImplementedError) as error:
            if method != FORWARD or "forward AD" not in str(error):
                raise
            method = ONE_BY_ONE  # a loss with no forward-mode rule in its backward
            out = self._run(method, vectors)
        self.method = method
        return out

    def _choice(self, vectors: torch.Tensor) -> str:
        count = vectors.shape[0] if vectors.dim() == 2 else 1
        key = (self._signature, count)
        if key not in CHOICES:
            CHOICES[key] = self._measure(vectors, count)
        return CHOICES[key]

    def _measure(self, vectors: torch.Tensor, count: int) -> str:
        """Time each way on ``vectors`` (one warm-up, then the best of a few runs); the fastest."""
        candidates = (ONE_BY_ONE, FORWARD) if count == 1 else (BATCHED, ONE_BY_ONE, FORWARD)
        seconds: dict[str, float] = {}
        for method in candidates:
            try:
                self._run(method, vectors)
            except (RuntimeError, NotImplementedError):
                continue  # e.g. no forward-mode rule, or no batching rule for an op's backward
            runs = []
            for _ in range(TIMED_REPEATS):
                _synchronise(self.device)
                start = time.perf_counter()
                self._run(method, vectors)
                _synchronise(self.device)
                runs.append(time.perf_counter() - start)
            seconds[method] = min(runs)
        if not seconds:  # none ran: let the plainest way raise its own error
            self._run(ONE_BY_ONE, vectors)
            return ONE_BY_ONE
        best = min(seconds, key=seconds.get)
        timings = ", ".join(f"{m} {s * 1e3:.2f} ms" for m, s in seconds.items())
        self.measurements.append(f"Hessian-vector products of {count} vector(s) on {self.device}: {timings}; using {best}")
        return best

    def release(self) -> None:
        """Free the kept graph (activations and the gradient's graph)."""
        self._graph = None

    def _unflatten(self, vector: torch.Tensor) -> dict[str, torch.Tensor]:
        pieces = vector.split(self.sizes, dim=-1)
        return {k: piece.reshape(*vector.shape[:-1], *t.shape) for (k, t), piece in zip(self.params.items(), pieces)}


def _flat(tensors, batch_dims: int) -> torch.Tensor:
    return torch.cat([t.reshape(*t.shape[:batch_dims], -1) for t in tensors], dim=-1)


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def forget_choices() -> None:
    """Measure again on next use (tests; a bench that changes thread counts)."""
    CHOICES.clear()


def choices_state() -> list[list[str | int]]:
    """The choices made so far, as plain values for a run's checkpoint: a resumed run (a new
    process) then uses the methods the first start measured, so it neither times them again (a
    log line the uninterrupted run never wrote) nor picks another method (other last bits)."""
    return [[signature, count, method] for (signature, count), method in CHOICES.items()]


def restore_choices(state: list[list[str | int]]) -> None:
    for signature, count, method in state:
        if method in METHODS:
            CHOICES.setdefault((str(signature), int(count)), str(method))

