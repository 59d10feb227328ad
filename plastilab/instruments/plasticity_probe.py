"""The plasticity probe (paper §2): how well can the network, as it is now, fit something new?

At a checkpoint the probe copies the network, gives the copy a fresh Adam, trains it for
``probe_steps`` on each of K target functions and reports the mean final loss. The K copies train
together: their parameters are stacked and one ``vmap`` of ``grad`` over a ``functional_call``
computes all K gradients at once.

The targets are drawn once per probe, from its own seed, so every measurement of a run (and the
baseline at θ_0) faces the same K tasks and the same mini-batch sequence; only the starting
parameters differ. Plasticity loss at step t is probe loss at θ_t minus probe loss at θ_0.

The training network, its optimiser and the global random streams are never touched: the probe
works on a deep copy, draws with its own generators and runs dropout on a private stream. The copy
trains in the network's own modes and is scored with dropout off: a batch norm in train mode uses
the batch's own statistics throughout (the copy keeps no running statistics of it), one in eval
mode its running statistics. Forward hooks travel with the copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, vmap
from torch.nn.utils import parametrize

from plastilab.instruments.functional import (
    Params,
    isolated_rng,
    model_device,
    private_copy,
)
from plastilab.instruments.schema import ProbeConfig

LossKind = Literal["mse", "huber", "cross_entropy"]
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "huber": F.huber_loss,
    "cross_entropy": F.cross_entropy,
}
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
EVAL_CHUNK = 1024  # examples scored at once after training


@dataclass(frozen=True)
class ProbeResult:
    final_loss: float  # mean over the K targets of the loss on all probe examples after training
    curve: np.ndarray  # (probe_steps,) mini-batch training loss at each step, mean over targets
    per_target: np.ndarray  # (K,) final loss of each target
    plasticity_loss: float | None = None  # final_loss minus the baseline's; None without one


class PlasticityProbe:
    """Probe a network's ability to fit ``config.n_targets`` fresh targets on ``inputs``.

    ``loss_kind`` overrides the family's loss (``mse`` for the regression families,
    ``cross_entropy`` for random labels); ``huber`` is accepted for regression.
    ``target_model`` builds a freshly initialised network of the same shape; by default the probe
    deep-copies the network and calls ``reset_parameters()`` on every submodule that has one,
    redrawing any parameter no such module owns as Gaussian noise of its current mean and std.
    """

    def __init__(
        self,
        inputs: torch.Tensor,
        config: ProbeConfig,
        seed: int = 0,
        *,
        loss_kind: LossKind | None = None,
        target_model: Callable[[], nn.Module] | None = None,
    ) -> None:
        classify = config.family == "random_labels"
        kind = loss_kind or ("cross_entropy" if classify else "mse")
        if (kind == "cross_entropy") != classify:
            raise ValueError(f"loss {kind!r} does not fit probe family {config.family!r}")
        self.config = config
        self.seed = seed
        self.loss_kind = kind
        self._loss = LOSSES[kind]
        self._all_inputs = inputs.detach()
        self._target_model = target_model
        self._inputs: torch.Tensor | None = None
        self._targets: torch.Tensor | None = None
        self.baseline_loss: float | None = None

    def set_baseline(self, model_at_init: nn.Module) -> ProbeResult:
        """Probe the network at θ_0; later results report ``plasticity_loss`` against it."""
        result = self.measure(model_at_init)
        self.baseline_loss = result.final_loss
        return replace(result, plasticity_loss=0.0)

    def measure(self, model: nn.Module) -> ProbeResult:
        device = model_device(model)
        with isolated_rng(self.seed, device):
            twin = private_copy(model)
            inputs, targets = self._task(model, twin, device)
            params, curve = self._train(twin, inputs, targets)
            per_target = self._score(twin, params, inputs, targets)
        final = float(per_target.mean())
        plasticity = None if self.baseline_loss is None else final - self.baseline_loss
        return ProbeResult(final, curve, per_target, plasticity)

    # -- the K tasks ---------------------------------------------------------------------------

    def _task(self, model: nn.Module, twin: nn.Module, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self._targets is None:
            self._draw_task(model, twin)
        return self._inputs.to(device), self._targets.to(device)

    def _draw_task(self, model: nn.Module, twin: nn.Module) -> None:
        g = torch.Generator().manual_seed(self.seed)
        n = min(self.config.n_examples, len(self._all_inputs))
        chosen = torch.randperm(len(self._all_inputs), generator=g)[:n]
        self._inputs = self._all_inputs[chosen.to(self._all_inputs.device)].cpu()
        k = self.config.n_targets
        if self.config.family == "random_labels":
            with torch.no_grad():
                width = twin(self._inputs[:2].to(model_device(twin))).shape[-1]
            self._targets = torch.randint(0, width, (k, n), generator=g)
            return
        seeds = torch.randint(0, 2**62, (k,), generator=g).tolist()
        self._targets = torch.stack([self._target_outputs(model, s) for s in seeds])
        if self.config.family == "high_frequency":
            self._targets = torch.sin(self.config.frequency * self._targets) + self.config.offset

    def _target_outputs(self, model: nn.Module, seed: int) -> torch.Tensor:
        device = model_device(model)
        with isolated_rng(seed, device):
            fresh = self._target_model() if self._target_model else _reinitialised(model)
            fresh = fresh.to(device).eval()
            with torch.no_grad():
                return fresh(self._inputs.to(device)).cpu()

    # -- training K copies at once ----------------------------------------------------------------

    def _train(self, twin: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[Params, np.ndarray]:
        cfg = self.config
        # The copy trains in the network's own modes (private_copy kept them): dropout on and
        # batch norm on batch statistics in a train-mode network; running statistics in eval mode.
        params = {
            name: p.detach().unsqueeze(0).repeat(cfg.n_targets, *([1] * p.dim()))
            for name, p in twin.named_parameters()
            if p.requires_grad
        }
        step = vmap(grad_and_value(self._loss_on(twin)), in_dims=(0, None, 0), randomness="different")
        # Adam is elementwise, so one Adam over the stacked tensors is K independent Adams.
        stacked = list(params.values())
        optimiser = _adam(stacked, cfg.lr)
        batches = self._batches(len(inputs), inputs.device)
        curve = torch.empty(cfg.probe_steps, device=inputs.device)
        for t, idx in enumerate(batches):
            grads, losses = step(params, inputs[idx], targets[:, idx])
            curve[t] = losses.mean()
            for tensor, g in zip(stacked, grads.values()):
                tensor.grad = g
            optimiser.step()
        return params, curve.cpu().numpy()

    def _loss_on(self, twin: nn.Module) -> Callable:
        """``loss(params, inputs, targets)`` of one copy; vmap stacks K of them."""
        buffers = dict(twin.named_buffers())

        def loss(params: Params, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._loss(functional_call(twin, (params, buffers), (x,)), t)

        return loss

    def _batches(self, n: int, device: torch.device) -> torch.Tensor:
        """The same mini-batch sequence at every measurement (drawn from the probe's seed)."""
        steps, size = self.config.probe_steps, self.config.batch_size
        if n <= size:
            return torch.arange(n, device=device).expand(steps, n)
        g = torch.Generator().manual_seed(self.seed + 1)
        return torch.randint(0, n, (steps, size), generator=g).to(device)

    def _score(self, twin: nn.Module, params: Params, inputs: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
        twin.eval()
        score = vmap(self._loss_on(twin), in_dims=(0, None, 0), randomness="different")
        total = torch.zeros(self.config.n_targets, device=inputs.device, dtype=torch.float64)
        with torch.no_grad():
            for start in range(0, len(inputs), EVAL_CHUNK):
                part = slice(start, start + EVAL_CHUNK)
                total += score(params, inputs[part], targets[:, part]).double() * len(inputs[part])
        return (total / len(inputs)).cpu().numpy()


def _adam(tensors: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """torch's Adam, its fused single-pass kernel where the device and dtype have one."""
    try:
        return torch.optim.Adam(tensors, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, fused=True)
    except RuntimeError:
        return torch.optim.Adam(tensors, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)


def _reinitialised(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with freshly drawn parameters (from the current global stream)."""
    if any(parametrize.is_parametrized(m) for m in model.modules()):
        # reset_parameters() would write into the computed weight and leave the original alone.
        raise ValueError(
            "the probe cannot re-initialise parametrised weights (e.g. spectral norm): pass target_model "
            "(probe_target_model to InstrumentSuite) to build fresh target networks"
        )
    fresh = copy.deepcopy(model)
    covered: set[int] = set()
    for module in fresh.modules():
        if callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()
            covered.update(id(p) for p in module.parameters(recurse=False))
    with torch.no_grad():
        for p in fresh.parameters():
            if id(p) not in covered:
                p.copy_(torch.randn_like(p) * p.std(unbiased=False) + p.mean())
    return fresh
