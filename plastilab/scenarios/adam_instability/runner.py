"""The Adam-instability scenario, top to bottom (paper §3.1, Figure 1).

every seed (the ``seeds`` axis) is a run of that seed alone, all stepped in lockstep:
for each task:
    each seed draws new random labels for its images   (a new task)
    for each step:
        each seed draws one mini-batch of indices      (shared by every variant of that seed)
        every variant takes one optimiser step on it   (all its seeds at once when stacked)
        every log_every steps: each variant reports its scalars
        every checkpoint_every steps: the run's state is saved (a resumed run starts here)
    at the task's last step: each variant reports task/final_loss on the whole task
    whenever an instrument is due: it measures each variant (probe, stats, Hessian, covariance)
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from plastilab.core.context import RunContext
from plastilab.core.events import Event, Scalars, TaskBoundary
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP
from plastilab.scenarios.adam_instability.learner import Learner, SeparateSeeds, make_variant_optimizer
from plastilab.scenarios.adam_instability.stacked import StackedSeeds
from plastilab.scenarios.adam_instability.schema import AdamInstabilityConfig
from plastilab.scenarios.common import check_finite_loss, load_scenario_images, merge_instrument_output, to_device


def initial_model(config: AdamInstabilityConfig, in_features: int, seed: int) -> MLP:
    torch.manual_seed(seed)
    return MLP(in_features, config.model.hidden, config.training.n_classes, config.model.activation, config.model.layer_norm)


def build_learners(config: AdamInstabilityConfig, in_features: int, device: str, seed: int | None = None) -> list[Learner]:
    """One learner per variant for one seed, all starting from the same initial weights."""
    seed = config.seed if seed is None else seed
    base = initial_model(config, in_features, seed)
    learners = []
    for name, variant in config.variants.items():
        model = copy.deepcopy(base).to(device)
        learners.append(Learner(name, model, make_variant_optimizer(variant, model.parameters(), config.training.lr)))
    return learners


def stacks_seeds(config: AdamInstabilityConfig, device: str) -> bool:
    """Whether the seeds of each variant train as one stack (``training.stack_seeds``)."""
    choice = config.training.stack_seeds
    if len(config.seed_values()) < 2 or choice == "off":
        return False
    return choice == "on" or STACK_PAYS_ON.get(torch.device(device).type, False)


# Where stacking seeds is faster than stepping them one after another ("auto" follows this).
# bench/bench_seeds_batched.py, 8 seeds, one CPU thread: 1.41x with the quick scenario's 64-unit
# MLP and 1.17x with 128 units (the fewer the flops a step, the more a stack saves of the
# per-step overhead); with the seeds as a plastilab.population (direct batched-matmul forward,
# stacked optimiser): 1.78x and 1.47x (machine at load ~2). On a GPU a stack runs the seeds' small kernels as one launch each; not yet
# measured here, so run the bench with --device cuda before trusting "auto" there.
STACK_PAYS_ON = {"cpu": True, "cuda": True, "mps": True}


def build_variants(config: AdamInstabilityConfig, inputs: list[torch.Tensor], device: str) -> list[SeparateSeeds | StackedSeeds]:
    """Per variant, all its seeds; seed s starts where a run of seed s alone starts."""
    seeds = config.seed_values()
    per_seed = [build_learners(config, x.shape[1], device, seed) for seed, x in zip(seeds, inputs)]
    groups: list[SeparateSeeds | StackedSeeds] = []
    for v, (name, variant) in enumerate(config.variants.items()):
        names = config.seeded([name]) if len(seeds) > 1 else [name]
        learners = [learners[v] for learners in per_seed]
        for learner, series in zip(learners, names):
            learner.name = series
        if stacks_seeds(config, device):
            groups.append(StackedSeeds(names, [l.model for l in learners], variant, config.training.lr))
        else:
            groups.append(SeparateSeeds(learners))
    return groups


# Mini-batch indices are drawn this many steps at a time: one draw per seed and one copy to the
# device per block instead of per step. The numbers are those of per-step draws: a generator's
# stream does not depend on how its draws are grouped, and each seed's stream draws exactly what
# it drew before (the task's labels, then its steps' indices, in order).
INDEX_BLOCK_STEPS = 250


def batch_rows(streams: list[torch.Generator], n_images: int, batch_size: int, steps: int, device: str) -> Iterator[torch.Tensor]:
    """For each of a task's ``steps``, the rows of the seeds' images stacked flat
    (``[seeds * n_images, ...]``) that make up every seed's mini-batch: ``[seeds * batch_size]``,
    seed i's indices offset by ``i * n_images``. Drawn on the CPU generators, moved without
    making the host wait (``common.to_device``)."""
    offsets = torch.arange(len(streams))[:, None] * n_images
    for start in range(0, steps, INDEX_BLOCK_STEPS):
        n = min(INDEX_BLOCK_STEPS, steps - start)
        drawn = torch.stack([torch.randint(0, n_images, (n, batch_size), generator=g) for g in streams], dim=1)
        yield from to_device((drawn + offsets).flatten(1), device).unbind(0)


def run_adam_instability(config: AdamInstabilityConfig, ctx: RunContext) -> Iterator[Event]:
    data, train = config.data, config.training
    seeds = config.seed_values()
    # Each seed's own images, as a run of that seed alone loads them.
    inputs = [to_device(load_scenario_images(config, ctx, seed)[0].flatten(1), ctx.device) for seed in seeds]
    image_rows = torch.cat(inputs)  # [seeds * images, features]: one gather makes every seed's batch
    shape = (len(seeds), train.batch_size)
    variants = build_variants(config, inputs, ctx.device)
    # Each seed's data stream has its own generator, on the CPU, so every device sees the same stream.
    streams = [torch.Generator().manual_seed(seed) for seed in seeds]
    suites: list[InstrumentSuite | None] = [None] * len(seeds)
    if config.instruments is not None:
        suites = [InstrumentSuite(config.instruments, probe_inputs=inputs[i], seed=seed) for i, seed in enumerate(seeds)]
    checkpoints = ctx.checkpoints
    resumed = checkpoints.take() if checkpoints is not None else None
    first_task, steps_done = 0, 0  # a resumed run: the task it was in, and its steps already taken
    if resumed is not None:
        first_task, steps_done = load_state(resumed, variants, streams, suites, ctx.device)
    elif config.instruments is not None:
        for group in variants:
            for i, (name, model) in enumerate(zip(group.names, group.models)):
                yield from suites[i].start(name, model)  # θ_0 and the probe's baseline
    suite = suites[0] if suites[0] is not None and suites[0].instruments else None
    step = first_task * train.steps_per_task + steps_done
    for task in range(first_task, train.n_tasks):
        # Where this task's draws begin: a checkpoint goes back here and draws them again.
        task_start = [g.get_state() for g in streams]
        labels = to_device(torch.stack([torch.randint(0, train.n_classes, (data.n_images,), generator=g) for g in streams]), ctx.device)
        label_rows = labels.flatten()
        skip = steps_done if task == first_task else 0
        if not skip:
            yield TaskBoundary(step=step, task=task)
        batches = batch_rows(streams, data.n_images, train.batch_size, train.steps_per_task, ctx.device)
        for task_step, rows in enumerate(itertools.islice(batches, skip, None), start=skip + 1):
            # The hot path: two gathers and each variant's step; no host sync, nothing else.
            xb = image_rows.index_select(0, rows).view(*shape, -1)
            yb = label_rows.index_select(0, rows).view(shape)
            step += 1
            last_of_task = task_step == train.steps_per_task
            measured = suite is not None and bool(suite.due(step))
            if step % train.log_every and not last_of_task and not measured:
                for group in variants:
                    group.train_step(xb, yb)
            else:
                yield from logged_step(config, ctx, step, variants, suites, inputs, labels, xb, yb, last_of_task, measured)
            if checkpoints is not None and checkpoints.due(step):
                checkpoints.save(step, state_dict(task, task_step, task_start, variants, suites))


def logged_step(config, ctx, step, variants, suites, inputs, labels, xb, yb, last_of_task, measured) -> Iterator[Event]:
    """A step that reports: every variant's scalars, and the instruments when they are due."""
    now = time.time()
    for variant_name, group in zip(config.variants, variants):
        if measured:
            for i, (name, model) in enumerate(zip(group.names, group.models)):
                suites[i].before_step(step, name, model)  # exact per-layer update ratios
        for i, values in enumerate(group.logged_step(xb, yb)):
            name, model = group.names[i], group.models[i]
            values.update(group.evaluate(i, inputs[i], labels[i]))
            if last_of_task:
                values["task/final_loss"] = values["train/full_loss"]
                values["task/final_accuracy"] = values["train/accuracy"]
            arrays: list[Event] = []
            if measured:
                # The learner's own numbers (on every image of the task) keep their tags;
                # the suite adds per-layer detail and what the learner does not measure.
                arrays = merge_instrument_output(values, instrument_events(suites[i], step, name, model, inputs[i], labels[i]))
            yield Scalars(step=step, series=name, values=values, wall_time=now)
            yield from arrays
            key = f"variants.{variant_name}.lr"
            check_finite_loss(values["train/loss"], series=name, step=step, key=key, ctx=ctx, also=" (or training.lr)")


def state_dict(task: int, task_step: int, task_start: list[torch.Tensor], variants, suites) -> dict:
    """The run between two steps, for a checkpoint: where it is in which task, each seed's data
    stream as the task began (its labels and mini-batches are drawn again from there), every
    variant's networks and optimisers, and the instruments' baselines."""
    return {
        "task": task,
        "task_step": task_step,
        "streams_at_task_start": task_start,
        "variants": [group.state_dict() for group in variants],
        "suites": [suite.state_dict() if suite is not None else None for suite in suites],
    }


def load_state(state: dict, variants, streams: list[torch.Generator], suites, device: str) -> tuple[int, int]:
    """Put a checkpoint's ``state_dict`` back; the task it was in and the steps taken in it."""
    for group, saved in zip(variants, state["variants"], strict=True):
        group.load_state_dict(saved)
    for stream, saved in zip(streams, state["streams_at_task_start"], strict=True):
        stream.set_state(saved)
    for suite, saved in zip(suites, state["suites"], strict=True):
        if suite is not None:
            suite.load_state_dict(saved, device)
    return int(state["task"]), int(state["task_step"])


def instrument_events(suite: InstrumentSuite, step: int, name: str, model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor) -> list[Event]:
    """The instruments due at ``step`` on one variant; the batch is sorted by the task's labels
    so the gradient-covariance matrix shows its class blocks."""
    order = torch.argsort(labels, stable=True)
    return suite.measure(
        step,
        name,
        model,
        loss_fn=F.cross_entropy,
        batch=(x[order], labels[order]),
        labels=labels[order],
    )
