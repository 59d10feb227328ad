"""The plasticity probe (paper §2): how well can the network, as it is now, fit something new?

At a checkpoint the probe copies the network, gives the copy a fresh Adam, trains it for
``probe_steps`` on each of K target functions and reports the mean final loss. The K copies train
together: their parameters are stacked, one forward pass runs all K copies
(:mod:`plastilab.instruments.stacked_forward`), one backward pass of the summed losses gives all
K gradients, and one fused Adam steps the stacked tensors.

Losses come raw and scale-free. Scale-free is what a reader can compare across networks and
targets: for regression, the fraction of the target's variance left unexplained (MSE / Var(target):
1.0 is no better than predicting the target's mean); for random labels, cross-entropy / ln(classes)
(1.0 is a uniform guess). The loss before the probe's training steps is reported too, so "starts
far away" (output scale) can be told from "cannot move" (trainability).

The targets are drawn once per probe, from its own seed, so every measurement of a run (and the
baseline at θ_0) faces the same K tasks and the same mini-batch sequence; only the starting
parameters differ. Plasticity loss at step t is the scale-free final loss at θ_t minus that at θ_0.

The training network, its optimiser and the global random streams are never touched: the probe
works on a deep copy, draws with its own generators and runs dropout on a private stream. The copy
trains in the network's own modes and is scored with dropout off: a batch norm in train mode uses
the batch's own statistics throughout (the copy keeps no running statistics of it), one in eval
mode its running statistics. Forward hooks travel with the copy.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from plastilab.instruments.functional import (
    Params,
    isolated_rng,
    model_device,
    private_copy,
)
from plastilab.instruments.stacked_forward import StackedForward, stacked_forward

LossKind = Literal["mse", "huber", "cross_entropy"]
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "huber": F.huber_loss,
    "cross_entropy": F.cross_entropy,
}
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
EVAL_CHUNK = 1024  # examples scored at once after training


class ProbeOptions(Protocol):
    """What the probe reads of its settings: a scenario's ``[instruments.probe]`` table
    (``builtin.probe.ProbeConfig``) is one; the maths here does not depend on the schema."""

    family: str
    n_targets: int
    probe_steps: int
    batch_size: int
    lr: float
    n_examples: int
    frequency: float
    offset: float


@dataclass(frozen=True)
class ProbeResult:
    final_loss: float  # mean over the K targets of the loss on all probe examples after training
    curve: np.ndarray  # (probe_steps,) mini-batch training loss at each step, mean over targets
    per_target: np.ndarray  # (K,) final loss of each target
    target_curves: np.ndarray | None = None  # (K, probe_steps) the training loss of each target at each step
    plasticity_loss: float | None = None  # final_loss_scaled minus the baseline's; None without one
    initial_loss: float = float("nan")  # the same loss before the probe's training steps
    final_loss_scaled: float = float("nan")  # scale-free: mean over targets of loss / that target's scale
    initial_loss_scaled: float = float("nan")
    plasticity_loss_raw: float | None = None  # final_loss minus the baseline's


class ConfiguredProbe:
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
        config: ProbeOptions,
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
        self._scales: torch.Tensor | None = None  # (K,) each target's scale (Var(target) or ln classes)
        self.baseline_loss: float | None = None
        self.baseline_loss_scaled: float | None = None

    def set_baseline(self, model_at_init: nn.Module) -> ProbeResult:
        """Probe the network at θ_0; later results report ``plasticity_loss`` against it."""
        result = self.measure(model_at_init)
        self.baseline_loss, self.baseline_loss_scaled = result.final_loss, result.final_loss_scaled
        return replace(result, plasticity_loss=0.0, plasticity_loss_raw=0.0)

    def measure(self, model: nn.Module) -> ProbeResult:
        device = model_device(model)
        with isolated_rng(self.seed, device):
            twin = private_copy(model)
            inputs, targets = self._task(model, twin, device)
            forward = stacked_forward(twin)
            params = {
                name: p.detach().unsqueeze(0).repeat(self.config.n_targets, *([1] * p.dim()))
                for name, p in twin.named_parameters()
                if p.requires_grad
            }
            before = self._score(twin, forward, params, inputs, targets)
            curve, target_curves = self._train(twin, forward, params, inputs, targets)
            per_target = self._score(twin, forward, params, inputs, targets)
        scales = self._scales.numpy()
        final, final_scaled = float(per_target.mean()), float((per_target / scales).mean())
        return ProbeResult(
            final_loss=final,
            curve=curve,
            per_target=per_target,
            target_curves=target_curves,
            plasticity_loss=None if self.baseline_loss_scaled is None else final_scaled - self.baseline_loss_scaled,
            initial_loss=float(before.mean()),
            final_loss_scaled=final_scaled,
            initial_loss_scaled=float((before / scales).mean()),
            plasticity_loss_raw=None if self.baseline_loss is None else final - self.baseline_loss,
        )

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
            self._scales = torch.full((k,), math.log(width) if width > 1 else 1.0, dtype=torch.float64)
            return
        seeds = torch.randint(0, 2**62, (k,), generator=g).tolist()
        self._targets = torch.stack([self._target_outputs(model, s) for s in seeds])
        if self.config.family == "high_frequency":
            self._targets = torch.sin(self.config.frequency * self._targets) + self.config.offset
        # Var(target): the MSE of predicting each output's mean, averaged over outputs.
        variance = self._targets.double().reshape(k, n, -1).var(dim=1, unbiased=False).mean(dim=1)
        self._scales = variance.clamp_min(1e-12)

    def _target_outputs(self, model: nn.Module, seed: int) -> torch.Tensor:
        device = model_device(model)
        with isolated_rng(seed, device):
            fresh = self._target_model() if self._target_model else _reinitialised(model)
            fresh = fresh.to(device).eval()
            with torch.no_grad():
                return fresh(self._inputs.to(device)).cpu()

    # -- training K copies at once ----------------------------------------------------------------

    def _train(
        self, twin: nn.Module, forward: StackedForward, params: Params, inputs: torch.Tensor, targets: torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray]:
        """Train the K copies in place: one forward, one backward and one fused Adam step a step.

        The copy trains in the network's own modes (private_copy kept them): dropout on and batch
        norm on batch statistics in a train-mode network; running statistics in eval mode. The
        losses of the K copies are summed: each copy's gradient is that of its own loss.
        Returns the mean curve over targets, (probe_steps,), and each target's, (K, probe_steps).
        """
        cfg = self.config
        stacked = [p.requires_grad_() for p in params.values()]
        # Adam is elementwise, so one Adam over the stacked tensors is K independent Adams.
        optimiser = _adam(stacked, cfg.lr)
        batches = self._batches(len(inputs), inputs.device)
        curve = torch.empty(cfg.probe_steps, device=inputs.device)
        # Each target's loss too (K numbers a step, kept on the device like the mean): the spread
        # across targets is part of what the paper reads from these curves (§3.3).
        per_target = torch.empty(cfg.probe_steps, cfg.n_targets, device=inputs.device)
        with torch.enable_grad():
            for t, idx in enumerate(batches):
                losses = self._losses(forward(params, inputs[idx]), targets[:, idx])
                optimiser.zero_grad(set_to_none=True)
                losses.sum().backward()
                optimiser.step()
                curve[t] = losses.detach().mean()  # stays on the device: no host sync a step
                per_target[t] = losses.detach()
        for p in stacked:
            p.requires_grad_(False)
            p.grad = None
        return curve.cpu().numpy(), per_target.T.contiguous().cpu().numpy()

    def _losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(K,) each copy's mean loss; ``outputs`` (K, B, ...), ``targets`` (K, B[, ...])."""
        if self.loss_kind == "cross_entropy":
            k, b = targets.shape
            return F.cross_entropy(outputs.reshape(k * b, -1), targets.reshape(-1), reduction="none").view(k, b).mean(1)
        return self._loss(outputs, targets, reduction="none").flatten(1).mean(1)

    def _batches(self, n: int, device: torch.device) -> torch.Tensor:
        """The same mini-batch sequence at every measurement (drawn from the probe's seed)."""
        steps, size = self.config.probe_steps, self.config.batch_size
        if n <= size:
            return torch.arange(n, device=device).expand(steps, n)
        g = torch.Generator().manual_seed(self.seed + 1)
        return torch.randint(0, n, (steps, size), generator=g).to(device)

    def _score(
        self, twin: nn.Module, forward: StackedForward, params: Params, inputs: torch.Tensor, targets: torch.Tensor
    ) -> np.ndarray:
        """(K,) each copy's loss on every probe example, in eval mode (dropout off); float64."""
        was_training = [m.training for m in twin.modules()]
        twin.eval()
        total = torch.zeros(self.config.n_targets, device=inputs.device, dtype=torch.float64)
        with torch.no_grad():
            for start in range(0, len(inputs), EVAL_CHUNK):
                part = slice(start, start + EVAL_CHUNK)
                total += self._losses(forward(params, inputs[part]), targets[:, part]).double() * len(inputs[part])
        for module, mode in zip(twin.modules(), was_training):
            module.training = mode
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
