"""One optimiser variant for several seeds at once: their parameters stacked, one step for all.

Every seed's network has the same shape, so the variant keeps one tensor per parameter with a
leading seed axis, runs the forward pass of all seeds with ``torch.func.vmap`` over
``functional_call`` (a batched matmul per layer), and steps the stacked tensors with the very
``torch.optim`` optimiser a single seed uses. Adam and SGD are elementwise, so stepping a stack
is stepping each seed alone; the summed loss (each seed's mean) gives each seed its own
gradient. Each seed keeps an ``nn.Module`` whose parameters are views into the stack, so the
instruments and the evaluation see each seed's network as it trains.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from plastilab.scenarios.adam_instability.learner import evaluate_on_task, make_optimizer
from plastilab.scenarios.adam_instability.schema import VariantConfig


class StackedSeeds:
    """The series ``names`` (one per seed) of one variant, trained together."""

    def __init__(self, names: list[str], models: list[nn.Module], variant: VariantConfig, training_lr: float) -> None:
        self.names = names
        self.template = copy.deepcopy(models[0])
        parameters = [dict(m.named_parameters()) for m in models]
        self.stacked = {
            key: nn.Parameter(torch.stack([p[key].detach() for p in parameters]))
            for key in parameters[0]
        }
        # Each seed's module now reads (and instruments measure) its slice of the stack.
        self.models = models
        for i, model in enumerate(models):
            for key, p in model.named_parameters():
                p.data = self.stacked[key].data[i]
        self.params = list(self.stacked.values())
        self.optimizer = make_optimizer(variant, self.params, training_lr)
        self._forward = vmap(self._forward_one)
        self._loss_sum = torch.zeros(len(models), device=self.params[0].device)
        self._seen = 0

    def _forward_one(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.template, params, (x,))

    def _losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[seeds, batch, classes]`` and each seed's mean loss ``[seeds]``."""
        logits = self._forward(self.stacked, x)
        losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)
        return logits, losses

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """``x``: ``[seeds, batch, ...]``, ``y``: ``[seeds, batch]``; one step of every seed."""
        _, losses = self._losses(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # seed i's parameters get the gradient of seed i's loss only
        self.optimizer.step()
        self._loss_sum += losses.detach()
        self._seen += 1

    def logged_step(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, float]]:
        """The step, and per seed the scalars ``Learner.logged_step`` reports."""
        before = [p.detach().clone() for p in self.params]
        logits, losses = self._losses(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        grad_norm = _per_seed_norm([p.grad for p in self.params if p.grad is not None])
        self._share_gradients()
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_sub_(before, [p.detach() for p in self.params])  # before := -(update)
        update_norm = _per_seed_norm(before)
        weight_norm = _per_seed_norm([p.detach() for p in self.params])
        self._loss_sum += losses.detach()
        self._seen += 1
        columns = {
            "train/loss": self._loss_sum / self._seen,
            "train/batch_accuracy": (logits.argmax(-1) == y).float().mean(1),
            "grads/norm": grad_norm,
            "updates/norm": update_norm,
            "updates/ratio": update_norm / weight_norm.clamp_min(1e-12),
            "weights/norm": weight_norm,
            **self._second_moment_stats(),
        }
        table = torch.stack(list(columns.values()), dim=1).tolist()  # one host sync for all
        self._loss_sum.zero_()
        self._seen = 0
        return [dict(zip(columns, row)) for row in table]

    def _share_gradients(self) -> None:
        """Each seed's module gets its slice of the step's gradient as ``.grad`` (the gradient
        the instruments report on a logged step, as for a network trained alone)."""
        for i, model in enumerate(self.models):
            for key, p in model.named_parameters():
                grad = self.stacked[key].grad
                p.grad = None if grad is None else grad[i]

    @torch.no_grad()
    def _second_moment_stats(self) -> dict[str, torch.Tensor]:
        """Per seed, as ``Learner.second_moment_stats`` (why it matters: see there)."""
        states = [self.optimizer.state[p]["exp_avg_sq"] for p in self.params if "exp_avg_sq" in self.optimizer.state.get(p, {})]
        if not states:
            return {}
        flat = torch.cat([s.flatten(1) for s in states], dim=1)
        return {
            "optim/second_moment_mean": flat.mean(1),
            "optim/second_moment_geomean": flat.add(1e-30).log_().mean(1).exp(),
        }

    def evaluate(self, seed_index: int, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        return evaluate_on_task(self.models[seed_index], x, y)

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the stacked parameters, the optimiser, the loss since the last log."""
        return {
            "stacked": {key: p.detach().clone() for key, p in self.stacked.items()},
            "optimizer": self.optimizer.state_dict(),
            "loss_sum": self._loss_sum.clone(),
            "seen": self._seen,
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        for key, p in self.stacked.items():
            p.copy_(state["stacked"][key])  # in place: each seed's module keeps viewing its slice
        self.optimizer.load_state_dict(state["optimizer"])
        self._loss_sum.copy_(state["loss_sum"])
        self._seen = int(state["seen"])


def _per_seed_norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    """The L2 norm over all ``tensors`` together, for each index of their leading seed axis."""
    squares = torch.stack([t.flatten(1).pow(2).sum(1) for t in tensors]).sum(0)
    return squares.sqrt()
