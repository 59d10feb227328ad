"""One optimiser variant: a network, its optimiser, and what it measures about itself."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plastilab.scenarios import common
from plastilab.scenarios.adam_instability.schema import VariantConfig


def make_variant_optimizer(variant: VariantConfig, params, training_lr: float) -> torch.optim.Optimizer:
    """One variant's optimiser (``common.make_optimizer`` with the variant's settings)."""
    return common.make_optimizer(
        variant.optimizer, params, variant.learning_rate(training_lr),
        betas=(variant.beta1, variant.beta2), eps=variant.eps, momentum=variant.momentum,
    )


class Learner:
    """A series of the run: trains on the shared batch, and at log steps reports scalars.

    ``train_step`` is the hot path and does exactly what a bare PyTorch loop does, plus one
    tensor addition to average the loss between logs (no host sync). ``logged_step`` also
    measures gradient and update norms, so it runs only every ``log_every`` steps, and reads
    all its numbers from the device in one sync.
    """

    def __init__(self, name: str, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.name = name
        self.model = model
        self.optimizer = optimizer
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.device = self.params[0].device if self.params else torch.device("cpu")
        self._loss = common.WindowedMean(self.device)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        loss = F.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._loss.add(loss)

    def logged_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        before = [p.detach().clone() for p in self.params]
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = _global_norm([p.grad for p in self.params if p.grad is not None], self.device)
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_sub_(before, [p.detach() for p in self.params])  # before := -(update)
        self._loss.add(loss)
        columns = {
            "train/loss": self._loss.take_tensor(),
            "train/batch_accuracy": (logits.argmax(1) == y).float().mean(),
            "grads/norm": grad_norm,
            "updates/norm": _global_norm(before, self.device),
            "weights/norm": _global_norm([p.detach() for p in self.params], self.device),
            **self.second_moment_stats(),
        }
        read = dict(zip(columns, torch.stack(list(columns.values())).tolist()))  # one host sync for all
        values = {tag: read[tag] for tag in ("train/loss", "train/batch_accuracy", "grads/norm", "updates/norm")}
        values["updates/ratio"] = read["updates/norm"] / max(read["weights/norm"], 1e-12)
        values.update((tag, value) for tag, value in read.items() if tag not in values)
        return values

    @torch.no_grad()
    def second_moment_stats(self) -> dict[str, torch.Tensor]:
        """Adam's second-moment estimate: its collapse after memorisation is the mechanism.

        When gradients vanish on a memorised task, v shrinks towards 0; the first large gradient
        of the next task is then divided by sqrt(v) + eps with v tiny, giving a huge step. The
        geometric mean follows the bulk of v's entries over many orders of magnitude, where the
        arithmetic mean follows only the largest. (Tensors: the caller reads them in one sync.)
        """
        states = [self.optimizer.state[p]["exp_avg_sq"] for p in self.params if "exp_avg_sq" in self.optimizer.state.get(p, {})]
        if not states:
            return {}
        flat = torch.cat([s.reshape(-1) for s in states])
        return {
            "optim/second_moment_mean": flat.mean(),
            "optim/second_moment_geomean": flat.add(1e-30).log_().mean().exp(),
        }

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        return evaluate_on_task(self.model, x, y)

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the network, the optimiser, the loss summed since the last log."""
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "loss": self._loss.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._loss.load_state_dict(state["loss"])


@torch.no_grad()
def evaluate_on_task(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Loss and accuracy on the whole task, and the fraction of dead hidden units (two host syncs)."""
    logits, dead = common.forward_counting_dead_units(model, x)
    loss, accuracy = torch.stack([F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()]).tolist()
    values = {"train/full_loss": loss, "train/accuracy": accuracy}
    if dead is not None:  # tanh and sigmoid units cannot die: no tag rather than a false 0
        values["units/dead_fraction"] = dead
    return values


def _global_norm(tensors: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """The L2 norm of all ``tensors`` together (a 0-d tensor on ``device``: no host sync)."""
    if not tensors:
        return torch.zeros((), device=device)
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(tensors)))


class SeparateSeeds:
    """One variant's seeds, each its own ``Learner``, stepped one after another: the same
    interface as ``StackedSeeds`` (stacked inputs ``[seeds, batch, ...]``)."""

    def __init__(self, learners: list[Learner]) -> None:
        self.learners = learners
        self.names = [learner.name for learner in learners]
        self.models = [learner.model for learner in learners]

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        for i, learner in enumerate(self.learners):
            learner.train_step(x[i], y[i])

    def logged_step(self, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, float]]:
        return [learner.logged_step(x[i], y[i]) for i, learner in enumerate(self.learners)]

    def evaluate(self, seed_index: int, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        return self.learners[seed_index].evaluate(x, y)

    def state_dict(self) -> dict:
        return {"learners": [learner.state_dict() for learner in self.learners]}

    def load_state_dict(self, state: dict) -> None:
        for learner, saved in zip(self.learners, state["learners"], strict=True):
            learner.load_state_dict(saved)
