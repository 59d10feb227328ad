"""The interventions scenario, top to bottom (paper §5.2).

for each architecture, intervention combination and seed (the ``seeds`` axis; one series each,
one after another, each seed as a run of that seed alone):
    build the network (with the combination's model changes) and its optimiser
    for each iteration:
        draw the task: new targets for the same inputs, or a stream's     (a new task)
            inputs and labels (permuted pixels, classes so far, a class pair), or its own
            inputs and targets (slowly-changing regression's bits)
        from the second iteration on: the combination's task-change interventions
        train steps_per_iteration steps on mini-batches of the task   (per-step interventions after each)
        every log_every steps (and whenever an instrument measures): the series' scalars,
            the instruments' scalars merged in (the runner's own tags win)
        at the iteration's last step: task/final_loss on the whole task (and, for classes,
            task/final_accuracy and task/online_accuracy: the mini-batches' before their step)
        every checkpoint_every steps: the series' state is saved (a resumed run starts here)
rank the combinations by their final losses over the last iterations
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import replace

import torch

from plastilab.analysis.ranking import as_records, rank_combinations
from plastilab.core.context import RunContext
from plastilab.core.events import Event, Scalars, TaskBoundary
from plastilab.core.seeds import one_seed
from plastilab.interventions.plan import InterventionPlan
from plastilab.interventions.redo import dormancy_scores
from plastilab.models.factory import build_model
from plastilab.scenarios.common import (
    WindowedMean,
    check_finite_loss,
    counting_dead_units,
    make_optimizer,
    merge_instrument_output,
    to_device,
)
from plastilab.scenarios.interventions.objectives import make_objective
from plastilab.scenarios.interventions.schema import InterventionsConfig, series_name
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed
from plastilab.scenarios.interventions.tasks import make_task_stream, scenario_inputs

EVAL_CHUNK = 500  # examples per forward pass when measuring the loss on the whole task


def run_interventions(config: InterventionsConfig, ctx: RunContext) -> Iterator[Event]:
    seeds = config.seed_values()
    # Each seed's images, as a run of that seed alone loads them.
    # (slowly-changing regression: its own reference inputs, no labels)
    inputs = {seed: tuple(t if t is None else to_device(t, ctx.device) for t in scenario_inputs(config, ctx, seed)) for seed in seeds}
    final_losses: dict[str, list[float | None]] = {}
    checkpoints = ctx.checkpoints
    # A resumed run skips the series it finished before its checkpoint (their lines are written).
    first = checkpoints.resumed_position.get("series_index", 0) if checkpoints is not None else 0
    # Seeds run one after another (each series is its own network, optimiser and interventions).
    grid = [(arch, combination, seed) for arch in config.grid.architectures for combination in config.grid.interventions for seed in seeds]
    for index, (arch, combination, seed) in enumerate(grid):
        if index < first:
            continue
        final_losses[series_name(arch, combination, seed)] = []
        series_ctx = replace(ctx, checkpoints=checkpoints.within(series_index=index) if checkpoints is not None else None)
        yield from train_series(one_seed(config, seed), series_ctx, inputs[seed][0], arch, combination, final_losses, labels=inputs[seed][1])
    # The ranking goes into the end summary only: the report shows it from summary.json (it
    # was also logged once, so `plastilab run` printed it twice).
    window = config.ranking.window
    ranking = rank_combinations(final_losses, window)
    return {"ranking": as_records(ranking), "ranking_window": window}


def train_series(
    config: InterventionsConfig,
    ctx: RunContext,
    x: torch.Tensor,
    arch: str,
    combination: str,
    final_losses: dict[str, list[float | None]],
    labels: torch.Tensor | None = None,
) -> Iterator[Event]:
    """One series: ``config`` is the run of one seed (``one_seed``); its final losses go to
    ``final_losses[its name]`` (a resumed series puts back every series' from the checkpoint).
    ``labels``: the images' classes, which the streams of streams/ draw their tasks from."""
    task, training = config.task, config.training
    name = series_name(arch, combination, config.seed)
    seed = derive_seed(config.seed, 0)
    torch.manual_seed(seed)  # the same initial network for every combination of this seed

    options = getattr(config.models, arch).model_dump()
    plan = InterventionPlan(combination, config.interventions, seed, activation=options.get("activation", "relu"))
    if plan.activation is not None:  # crelu, dff: the combination's activation replaces the model's
        options["activation"] = plan.activation
    tasks = make_task_stream(task, x, labels, seed, config.data.dataset, ctx.source)
    objective = make_objective(task, config.interventions.two_hot if plan.uses("two_hot") else None, tasks.n_classes)

    def fresh_network() -> torch.nn.Module:
        return build_model(arch, x.shape[1:], objective.n_out, layer_norm=plan.layer_norm, **options)

    model = fresh_network().to(ctx.device)
    plan.prepare(model, fresh_network)
    suite = make_suite(config, x, fresh_network)
    optimizer = plan.wrap_optimizer(make_optimizer(training.optimizer, model.parameters(), training.lr))

    batches = torch.Generator().manual_seed(derive_seed(seed, 1))  # on the CPU: same stream on every device
    train_loss = WindowedMean(ctx.device)
    online_accuracy = WindowedMean(ctx.device)  # over the iteration: LoP's online reading
    checkpoints = ctx.checkpoints
    resumed = checkpoints.take() if checkpoints is not None else None
    first_iteration, steps_done = 0, 0  # a resumed series: the iteration it was in, its steps taken in it
    if resumed is not None:
        first_iteration, steps_done = int(resumed["iteration"]), int(resumed["iteration_step"])
        plan.rebuild(model, optimizer, resumed["plan"])  # injected heads, before their weights load
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        plan.load_state_dict(resumed["plan"], ctx.device)
        train_loss.load_state_dict(resumed["train_loss"])
        if "online_accuracy" in resumed:  # checkpoints from before it kept none
            online_accuracy.load_state_dict(resumed["online_accuracy"])
        batches.set_state(resumed["batches"])
        if suite is not None:
            suite.load_state_dict(resumed["suite"], ctx.device)
        final_losses.clear()
        final_losses.update({series: list(values) for series, values in resumed["final_losses"].items()})
    elif suite is not None:
        yield from suite.start(name, model)  # θ_0 and the probe baseline, at step 0
    step = first_iteration * task.steps_per_iteration + steps_done
    for iteration in range(first_iteration, task.n_iterations):
        x_task, y = (to_device(t, ctx.device) for t in tasks.draw(iteration))
        unit_inputs = x_task[: config.interventions.redo.n_examples]  # the task's own inputs
        skip = steps_done if iteration == first_iteration else 0
        if resumed is None or iteration > first_iteration:  # a resumed iteration has begun already
            yield TaskBoundary(step=step, task=iteration, series=name)
            if iteration > 0:
                changed = plan.at_task_change(model, optimizer, unit_inputs)
                if changed:
                    yield Scalars(step=step, series=name, values=changed, wall_time=time.time())
        for iteration_step in range(skip + 1, task.steps_per_iteration + 1):
            step += 1
            index = to_device(torch.randint(0, len(x_task), (training.batch_size,), generator=batches), ctx.device)  # no host wait
            xb, yb = x_task[index], y[index]
            if suite is not None:
                suite.before_step(step, name, model)
            output = model(xb)
            loss = objective.loss(output, yb)
            penalty = plan.penalty(model)
            optimizer.zero_grad(set_to_none=True)
            (loss if penalty is None else loss + penalty).backward()
            optimizer.step()
            extra = plan.after_step(model, optimizer, step, training.lr, unit_inputs)
            train_loss.add(loss if objective.trains_on_error else objective.error(output.detach(), yb))
            if objective.accuracy is not None:  # the prediction before this step, as LoP's online accuracy
                online_accuracy.add(objective.accuracy(output.detach(), yb))
            instrument_events: list[Event] = []
            if suite is not None:
                classes = yb if objective.accuracy is not None else None
                instrument_events = suite.measure(step, name, model, loss_fn=objective.loss, batch=(xb, yb), labels=classes)

            last = iteration_step == task.steps_per_iteration
            if not (step % training.log_every and not last and not extra and not instrument_events):
                # a step the instruments measure is a logged step, so their output merges
                yield from logged_step(config, ctx, name, step, model, objective, plan, penalty, train_loss, extra, unit_inputs, x_task, y, last, final_losses[name], instrument_events, online_accuracy)
            if checkpoints is not None and checkpoints.due(step):
                checkpoints.save(step, {
                    "iteration": iteration,
                    "iteration_step": iteration_step,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "plan": plan.state_dict(),
                    "train_loss": train_loss.state_dict(),
                    "online_accuracy": online_accuracy.state_dict(),
                    "batches": batches.get_state(),
                    "suite": suite.state_dict() if suite is not None else None,
                    "final_losses": {series: list(values) for series, values in final_losses.items()},
                })


def logged_step(config, ctx, name, step, model, objective, plan, penalty, train_loss, extra, unit_inputs, x, y, last, final_losses, instrument_events, online_accuracy=None) -> Iterator[Event]:
    """The scalars of a logged step (with the task's final loss at an iteration's last step)."""
    values = {"train/loss": train_loss.take(), **extra, **plan.report()}
    values.update(measure(model, unit_inputs, config))
    if penalty is not None:
        values["train/penalty"] = penalty.item()
    if last:
        values.update(evaluate(model, objective, x, y))
        if online_accuracy is not None and online_accuracy.count:
            values["task/online_accuracy"] = online_accuracy.take()
        final_losses.append(values["task/final_loss"] if math.isfinite(values["task/final_loss"]) else None)
    # The runner's own numbers keep their tags; the instruments add the rest (per layer,
    # ranks, the probe), as in every runner.
    instrument_events = merge_instrument_output(values, instrument_events)
    yield Scalars(step=step, series=name, values=values, wall_time=time.time())
    yield from instrument_events
    check_finite_loss(values["train/loss"], series=name, step=step, key="training.lr", ctx=ctx)


def make_suite(config: InterventionsConfig, x: torch.Tensor, fresh_network):
    """The optional ``[instruments]`` of one series. The probe's targets come from the scenario
    seed and ``fresh_network`` (the series' architecture and output, without spectral norm), so
    every combination of an architecture faces the same probe tasks."""
    if config.instruments is None:
        return None
    from plastilab.instruments.suite import InstrumentSuite  # deferred: pulls in torch

    stats_inputs = x[: config.interventions.redo.n_examples]
    return InstrumentSuite(config.instruments, x, config.seed, stats_inputs=stats_inputs, probe_target_model=fresh_network)


@torch.no_grad()
def measure(model: torch.nn.Module, inputs: torch.Tensor, config: InterventionsConfig) -> dict[str, float]:
    """Dead units (the one definition, ``common.counting_dead_units``) and dormant units (ReDo's
    score at its threshold) on ``inputs``, from one forward pass, and the parameters' norm."""
    with counting_dead_units(model) as dead:
        scores = torch.cat(list(dormancy_scores(model, inputs).values()))
    norm = math.sqrt(sum(float(p.detach().pow(2).sum()) for p in model.parameters()))
    values = {
        "units/dormant_fraction": (scores <= config.interventions.redo.threshold).float().mean().item(),
        "weights/norm": norm,
    }
    if dead.fraction is not None:
        values["units/dead_fraction"] = dead.fraction
    return values


@torch.no_grad()
def evaluate(model: torch.nn.Module, objective, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The loss the user sees (and accuracy, for labels) on every input of the task."""
    model.eval()
    try:
        outputs = torch.cat([model(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)])
    finally:
        model.train()
    values = {"task/final_loss": objective.error(outputs, y).item()}
    if objective.accuracy is not None:
        values["task/final_accuracy"] = objective.accuracy(outputs, y).item()
    return values
