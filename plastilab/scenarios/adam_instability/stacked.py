"""One optimiser variant for several seeds at once: their networks one population, one step for all.

Every seed's network has the same shape, so the variant holds them as a
``plastilab.population.Population``: one tensor per parameter with a leading seed axis, the
forward pass of all seeds as one batched operation per layer, and a stacked optimiser whose
step is each seed's own ``torch.optim`` step. The summed loss (each seed's mean) gives each
seed its own gradient. Each seed keeps an ``nn.Module`` whose parameters are views into the
stack, so the instruments and the evaluation see each seed's network as it trains.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plastilab.population import Population, make_stacked_optimizer, per_agent_norm
from plastilab.population.optim_base import StackedOptimizer
from plastilab.scenarios.adam_instability.learner import evaluate_on_task
from plastilab.scenarios.adam_instability.schema import VariantConfig


def make_stacked_variant_optimizer(variant: VariantConfig, params, training_lr: float) -> StackedOptimizer:
    """The stacked form of ``learner.make_variant_optimizer``: the same optimiser and hyperparameters."""
    lr = variant.learning_rate(training_lr)
    if variant.optimizer == "adam":
        hyper = {"lr": lr, "beta1": variant.beta1, "beta2": variant.beta2, "eps": variant.eps}
    else:
        hyper = {"lr": lr, "momentum": variant.momentum}
    return make_stacked_optimizer(variant.optimizer, params, hyper)


class StackedSeeds:
    """The series ``names`` (one per seed) of one variant, trained together."""

    def __init__(self, names: list[str], models: list[nn.Module], variant: VariantConfig, training_lr: float) -> None:
        self.names = names
        self.population = Population(models)
        self.models = self.population.models  # each seed's module reads (and instruments measure) its slice
        self.params = self.population.parameters()
        self.optimizer = make_stacked_variant_optimizer(variant, self.params, training_lr)
        self._loss_sum = torch.zeros(len(models), device=self.params[0].device)
        self._seen = 0

    def _losses(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[seeds, batch, classes]`` and each seed's mean loss ``[seeds]``."""
        logits = self.population(x)
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
        grad_norm = per_agent_norm([p.grad for p in self.params if p.grad is not None])
        self.population.share_gradients()  # the gradient the instruments report on a logged step
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_sub_(before, [p.detach() for p in self.params])  # before := -(update)
        update_norm = per_agent_norm(before)
        weight_norm = per_agent_norm([p.detach() for p in self.params])
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

    @torch.no_grad()
    def _second_moment_stats(self) -> dict[str, torch.Tensor]:
        """Per seed, as ``Learner.second_moment_stats`` (why it matters: see there)."""
        states = self.optimizer.moments("exp_avg_sq")
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
        """What a checkpoint keeps: the stacked networks, the optimiser, the loss since the last log."""
        return {
            "population": self.population.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "loss_sum": self._loss_sum.clone(),
            "seen": self._seen,
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        self.population.load_state_dict(state["population"])  # in place: each seed's module keeps viewing its slice
        self.optimizer.load_state_dict(state["optimizer"])
        self._loss_sum.copy_(state["loss_sum"])
        self._seen = int(state["seen"])
