"""Studies pack trials into populations: several trials trained as one run, one process (one task).

A population is how trials execute, not how they are stored: each trial keeps its own run folder
and ledger row. Trials pack together when their kind says they may (``ScenarioKind.population``:
block-MDP trials of one agent, one reward variant and one seed) and they differ only in what a
population may vary (seed, reward variant, optimiser hyperparameters). The merged run trains the
product rewards × agents × seeds, so a population is always such a product: nothing is trained
for nobody. A product bigger than the population size is cut along the axis that leaves the
fewest pieces (seeds first on a tie), in near-equal pieces.

The size: ``--population-size`` if given, else as many trials as leave every worker one
population; never more than ``MAX_POPULATION``; never more than fits in the memory each worker
may use (the estimate of ``core.memory_estimate.population_total``): a population that does not
fit is split, never refused. With ``--gpus-per-trial`` below one card, a population shares one
card (at most 1 / gpus_per_trial trials); with a card or more a trial, each trial is its own task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.core.memory_estimate import available_bytes, population_total
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.scenario_file import Scenario
from plastilab.studies.executors import default_workers

# Bigger populations gain little once a stack fills the cores, and a population is also what a
# stop, a crash or a resume loses: keep each to a fraction of a study.
MAX_POPULATION = 64
# Of the RAM available when the study starts, what its populations may plan on using at once.
MEMORY_SHARE = 0.5

Product = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]  # rewards, agents, seeds


def check_population_flags(population_size: int | None, gpus_per_trial: float | None, executor: str) -> None:
    """The CLI's one-line errors, before any folder exists."""
    if population_size is not None and population_size < 1:
        raise ScenarioError(f"--population-size: found {population_size}; allowed: a number >= 1 (1 runs every trial alone)")
    if gpus_per_trial is None:
        return
    if executor != "ray":
        raise ScenarioError("--gpus-per-trial: only for --executor ray (the local pool runs on this machine's one device); drop it or add --executor ray")
    if not (gpus_per_trial > 0) or (gpus_per_trial > 1 and gpus_per_trial != int(gpus_per_trial)):
        raise ScenarioError(f"--gpus-per-trial: found {gpus_per_trial:g}; allowed: a fraction of a card (0 < x <= 1) or a whole number of cards")


def wants_gpu(scenario: Scenario, gpus_per_trial: float | None) -> bool:
    """A trial on CUDA asks its task for a card; so does one on ``auto`` given --gpus-per-trial
    (a Ray task that asks for none sees none, and ``auto`` would pick the CPU)."""
    device = str(scenario.config.device)
    return device.startswith("cuda") or (device == "auto" and gpus_per_trial is not None)


def ray_gpus(executor: Any, scenarios: list[Scenario], gpus_per_trial: float | None) -> float | None:
    """The GPUs a Ray task of these trials asks for: ``gpus_per_trial`` each, or one card for the
    whole population when not given; None on the local pool or off CUDA."""
    if getattr(executor, "name", "") != "ray" or not any(wants_gpu(s, gpus_per_trial) for s in scenarios):
        return None
    if gpus_per_trial is None:
        return 1.0
    return round(gpus_per_trial * len(scenarios), 4)  # Ray counts fractions of a card to 1e-4


def check_gpus(executor: Any, jobs: list[dict[str, Any]]) -> None:
    """A task that asks for more GPUs than the cluster has would wait forever: refuse it now."""
    asked = max((job.get("num_gpus", 0) for job in jobs), default=0)
    if not asked or getattr(executor, "name", "") != "ray":
        return
    import ray  # deferred: Ray is an optional extra; only a Ray executor gets here

    has = ray.cluster_resources().get("GPU", 0)
    if has < asked:
        raise ScenarioError(
            f"--gpus-per-trial: a task asks for {asked:g} GPU{'s' if asked != 1 else ''} (device cuda), the Ray cluster has {has:g}; "
            "join a GPU cluster with --address, lower --gpus-per-trial, or set device=cpu"
        )


def plan(
    trials: Sequence[Any],
    scenarios: dict[str, Scenario],
    *,
    workers: int,
    size: int | None = None,
    memory_budget: int | None = None,
    gpus_per_trial: float | None = None,
) -> list[list[Any]]:
    """The populations (lists of trials, in study order) that run ``trials``; ``memory_budget``:
    bytes one population may use (None: unknown, no limit)."""
    cap = size if size is not None else max(1, min(MAX_POPULATION, math.ceil(len(trials) / max(1, workers))))
    if gpus_per_trial is not None and any(wants_gpu(scenarios[t.id], gpus_per_trial) for t in trials):
        cap = min(cap, max(1, int(1 / gpus_per_trial)) if gpus_per_trial < 1 else 1)
    groups: dict[tuple[str, str], list[Any]] = {}
    alone: list[list[Any]] = []
    for trial in trials:
        config = scenarios[trial.id].config
        kind = SCENARIO_KINDS[config.kind].load_population()
        if cap == 1 or kind is None or kind.why_not_packed(config) is not None:
            alone.append([trial])
        else:
            groups.setdefault((config.kind, kind.population_key(config)), []).append(trial)
    populations = alone
    for (kind_name, _), members in groups.items():
        kind = SCENARIO_KINDS[kind_name].load_population()
        by_point = {}
        for trial in members:
            by_point.setdefault(kind.point(scenarios[trial.id].config), []).append(trial)
        # A point twice (an explicit trial list that repeats one) cannot share a run with itself.
        extra = [[t] for same in by_point.values() for t in same[1:]]
        limit = _memory_cap(members, scenarios, cap, memory_budget)
        for product in products(list(by_point)):
            for piece in split(product, limit):
                populations.append([by_point[p][0] for p in points_of(piece)])
        populations.extend(extra)
    order = {t.id: i for i, t in enumerate(trials)}
    for population in populations:
        population.sort(key=lambda t: order[t.id])
    return sorted(populations, key=lambda p: order[p[0].id])


def _memory_cap(members: list[Any], scenarios: dict[str, Scenario], cap: int, budget: int | None) -> int:
    """The largest size up to ``cap`` whose population of these trials fits ``budget``."""
    if budget is None:
        return cap
    configs = [scenarios[t.id].config for t in members]
    while cap > 1 and population_total(configs[:cap]) > budget:
        cap -= 1
    return cap


def products(points: list[tuple[Any, Any, Any]]) -> list[Product]:
    """``points`` (reward, agent, seed) as products of value sets, each point in exactly one:
    pairs (reward, agent) with the same seeds, then agents with the same rewards among those.
    A study's axes give one product; an explicit trial list may give several."""
    seeds_of: dict[tuple[Any, Any], list[Any]] = {}
    for reward, agent, seed in points:
        seeds_of.setdefault((reward, agent), []).append(seed)
    by_seeds: dict[tuple[Any, ...], list[tuple[Any, Any]]] = {}
    for pair, seeds in seeds_of.items():
        by_seeds.setdefault(tuple(seeds), []).append(pair)
    found: list[Product] = []
    for seeds, pairs in by_seeds.items():
        rewards_of: dict[Any, list[Any]] = {}
        for reward, agent in pairs:
            rewards_of.setdefault(agent, []).append(reward)
        by_rewards: dict[tuple[Any, ...], list[Any]] = {}
        for agent, rewards in rewards_of.items():
            by_rewards.setdefault(tuple(rewards), []).append(agent)
        found.extend((rewards, tuple(agents), seeds) for rewards, agents in by_rewards.items())
    return found


def split(product: Product, limit: int) -> list[Product]:
    """``product`` in pieces of at most ``limit`` points, each a product, as few as one axis allows."""
    size = math.prod(len(axis) for axis in product)
    if size <= limit:
        return [product]
    best: tuple[int, int, int] | None = None  # (pieces, axis, values a piece)
    for axis in (2, 1, 0):  # seeds, then agents, then rewards: the first wins a tie
        others = size // len(product[axis])
        per_piece = limit // others
        if per_piece >= 1:
            pieces = math.ceil(len(product[axis]) / per_piece)
            if best is None or pieces < best[0]:
                best = (pieces, axis, per_piece)
    if best is None:  # no one axis is enough: one value of the longest axis a piece, then again
        axis = max(range(3), key=lambda a: len(product[a]))
        return [piece for value in product[axis] for piece in split(_with(product, axis, (value,)), limit)]
    pieces, axis, _ = best
    values = product[axis]
    bounds = [round(i * len(values) / pieces) for i in range(pieces + 1)]  # near-equal pieces
    return [_with(product, axis, values[a:b]) for a, b in zip(bounds, bounds[1:])]


def _with(product: Product, axis: int, values: tuple[Any, ...]) -> Product:
    parts = list(product)
    parts[axis] = tuple(values)
    return parts[0], parts[1], parts[2]


def points_of(product: Product) -> list[tuple[Any, Any, Any]]:
    rewards, agents, seeds = product
    return [(r, a, s) for r in rewards for a in agents for s in seeds]


def describe_plan(study: Any, scenarios: list[Scenario], workers: int | None = None) -> str:
    """How this machine's local pool would run the study, e.g. 'here: 2 populations of 64 on 2 workers'."""
    workers = workers or study.config.workers or default_workers()

    class Pool:  # what memory_budget reads of an executor
        name, capacity = "local", workers

    by_id = {t.id: s for t, s in zip(study.trials, scenarios)}
    populations = plan(study.trials, by_id, workers=workers, size=study.config.population_size, memory_budget=memory_budget(Pool))
    sizes = sorted({len(p) for p in populations}, reverse=True)
    if sizes == [1]:
        return f"here: each trial alone on {workers} worker{'s' if workers != 1 else ''}"
    shown = " or ".join(str(n) for n in sizes[:3])
    plural = "s" if len(populations) != 1 else ""
    return f"here: {len(populations)} population{plural} of {shown} on {workers} worker{'s' if workers != 1 else ''}"


def memory_budget(executor: Any) -> int | None:
    """Bytes one population may use: a share of what a worker has, this machine's available
    RAM over the pool's workers, or a Ray cluster's memory over its CPUs."""
    if getattr(executor, "name", "") == "ray":
        try:
            import ray  # deferred: Ray is an optional extra; only a Ray executor gets here

            resources = ray.cluster_resources()
            memory, cpus = resources.get("memory"), resources.get("CPU")
            if memory and cpus:
                return int(memory * MEMORY_SHARE / cpus)
        except Exception:  # noqa: BLE001 - no figure: plan without a memory limit
            return None
        return None
    available, _ = available_bytes("cpu")
    return int(available * MEMORY_SHARE / max(1, executor.capacity)) if available else None
