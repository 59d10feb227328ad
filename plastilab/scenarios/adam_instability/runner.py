"""The Adam-instability scenario, top to bottom (paper §3.1, Figure 1).

for each task:
    draw new random labels for the same images         (a new task)
    for each step:
        draw one mini-batch of indices                 (shared by every variant)
        every variant takes one optimiser step on it
        every log_every steps: each variant reports its scalars
    at the task's last step: each variant reports task/final_loss on the whole task
    whenever an instrument is due: it measures each variant (probe, stats, Hessian, covariance)
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from plastilab.core.context import RunContext
from plastilab.core.events import Event, Scalars, TaskBoundary
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP
from plastilab.scenarios.adam_instability.learner import Learner, make_optimizer
from plastilab.scenarios.adam_instability.schema import AdamInstabilityConfig
from plastilab.scenarios.common import check_finite_loss, load_scenario_images, merge_instrument_output


def build_learners(config: AdamInstabilityConfig, in_features: int, device: str) -> list[Learner]:
    """One learner per variant, all starting from the same initial weights."""
    torch.manual_seed(config.seed)
    base = MLP(in_features, config.model.hidden, config.training.n_classes, config.model.activation, config.model.layer_norm)
    learners = []
    for name, variant in config.variants.items():
        model = copy.deepcopy(base).to(device)
        learners.append(Learner(name, model, make_optimizer(variant, model.parameters(), config.training.lr)))
    return learners


def run_adam_instability(config: AdamInstabilityConfig, ctx: RunContext) -> Iterator[Event]:
    data, train = config.data, config.training
    images, _ = load_scenario_images(config, ctx)
    x = images.flatten(1).to(ctx.device)
    learners = build_learners(config, x.shape[1], ctx.device)
    # The data stream has its own generator, on the CPU, so every device sees the same stream.
    stream = torch.Generator().manual_seed(config.seed)
    suite = None
    if config.instruments is not None:
        suite = InstrumentSuite(config.instruments, probe_inputs=x, seed=config.seed)
        for learner in learners:
            yield from suite.start(learner.name, learner.model)  # θ_0 and the probe's baseline
    step = 0
    for task in range(train.n_tasks):
        labels = torch.randint(0, train.n_classes, (data.n_images,), generator=stream).to(ctx.device)
        yield TaskBoundary(step=step, task=task)
        for task_step in range(1, train.steps_per_task + 1):
            index = torch.randint(0, data.n_images, (train.batch_size,), generator=stream).to(ctx.device)
            xb, yb = x[index], labels[index]
            step += 1
            last_of_task = task_step == train.steps_per_task
            measured = suite is not None and bool(suite.due(step))
            if step % train.log_every and not last_of_task and not measured:
                for learner in learners:
                    learner.train_step(xb, yb)
                continue
            now = time.time()
            for learner in learners:
                if measured:
                    suite.before_step(step, learner.name, learner.model)  # exact per-layer update ratios
                values = learner.logged_step(xb, yb)
                values.update(learner.evaluate(x, labels))
                if last_of_task:
                    values["task/final_loss"] = values["train/full_loss"]
                    values["task/final_accuracy"] = values["train/accuracy"]
                arrays: list[Event] = []
                if measured:
                    # The learner's own numbers (on every image of the task) keep their tags;
                    # the suite adds per-layer detail and what the learner does not measure.
                    arrays = merge_instrument_output(values, instrument_events(suite, step, learner, x, labels))
                yield Scalars(step=step, series=learner.name, values=values, wall_time=now)
                yield from arrays
                key = f"variants.{learner.name}.lr"
                check_finite_loss(values["train/loss"], series=learner.name, step=step, key=key, ctx=ctx, also=" (or training.lr)")


def instrument_events(suite: InstrumentSuite, step: int, learner: Learner, x: torch.Tensor, labels: torch.Tensor) -> list[Event]:
    """The instruments due at ``step`` on one variant; the batch is sorted by the task's labels
    so the gradient-covariance matrix shows its class blocks."""
    order = torch.argsort(labels, stable=True)
    return suite.measure(
        step,
        learner.name,
        learner.model,
        loss_fn=F.cross_entropy,
        batch=(x[order], labels[order]),
        labels=labels[order],
    )
