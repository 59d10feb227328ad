"""Seeds as an axis: run one seed's generator after another, naming series ``<series>/s<seed>``.

A kind whose seeds cannot share work (an agent loop, a grid of different networks) runs each
seed exactly as a run with ``seed = s`` alone would, one after the other; with one seed the
names are unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from plastilab.core.context import RunContext
from plastilab.core.driver import seed_everything
from plastilab.core.events import Event
from plastilab.core.schema import ScenarioConfig
from plastilab.core.series_names import seeded_name


def one_seed(config: ScenarioConfig, seed: int) -> ScenarioConfig:
    """``config`` as a run of ``seed`` alone (frozen models: a validated copy)."""
    return config.model_copy(update={"seed": seed, "seeds": 1})


def rename_series(event: Event, seed: int) -> Event:
    """``event`` with its series named for ``seed``; events of every series stay as they are."""
    series = getattr(event, "series", None)
    if not series:
        return event
    return dataclasses.replace(event, series=seeded_name(series, seed))


def run_seeds_one_after_another(
    config: ScenarioConfig,
    ctx: RunContext,
    run_one: Callable[[ScenarioConfig, RunContext], Iterator[Event]],
) -> Iterator[Event]:
    """Every seed of ``config`` through ``run_one``, in order; returns the last seed's result."""

    seeds = config.seed_values()
    checkpoints = ctx.checkpoints
    if len(seeds) == 1:
        seed_ctx = dataclasses.replace(ctx, seed=seeds[0], checkpoints=checkpoints.within(seed_index=0) if checkpoints else None)
        return (yield from run_one(one_seed(config, seeds[0]), seed_ctx))
    result = None
    # A resumed run skips the seeds it finished before its checkpoint (their lines are written).
    first = checkpoints.resumed_position.get("seed_index", 0) if checkpoints is not None else 0
    for index, seed in enumerate(seeds):
        if index < first:
            continue
        seed_everything(seed)  # as the driver does for a run of this seed alone
        seed_checkpoints = checkpoints.within(seed_index=index) if checkpoints is not None else None
        events = run_one(one_seed(config, seed), dataclasses.replace(ctx, seed=seed, checkpoints=seed_checkpoints))
        try:
            while True:
                yield rename_series(next(events), seed)
        except StopIteration as done:
            result = done.value
        finally:
            events.close()
    return result
