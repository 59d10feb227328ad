"""Drive one scenario: turn its generator into a complete, well-ended event stream.

The driver owns what every run shares: seeding, the RunStarted event, dispatch to consumers,
pause/stop, and turning every way a run can end into exactly one end event.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from plastilab.core.context import RunContext
from plastilab.core.control import RunControl
from plastilab.core.device import resolve_device
from plastilab.core.errors import PlastilabError
from plastilab.core.events import Event, RunFailed, RunFinished, RunInterrupted, RunStarted, Scalars, SeriesFailed
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.scenario_file import Scenario

if TYPE_CHECKING:
    from plastilab.runtime.checkpoint_save import Checkpoints

class Consumer(Protocol):
    def handle(self, event: Event) -> None: ...


def drive(
    scenario: Scenario,
    consumers: Iterable[Consumer],
    *,
    run_dir: str | None = None,
    control: RunControl | None = None,
    checkpoints: Checkpoints | None = None,
    series_may_fail: bool = False,
) -> Event:
    """Run ``scenario`` to its end, feeding every event to every consumer; return the end event.

    ``checkpoints`` (``checkpoint_every`` > 0) reach the runner through its context; one that
    holds a resumed state makes this a resumed run (RunStarted says from which step). A
    ``SeriesFailed`` ends the run failed with its line, unless ``series_may_fail`` (a study's
    population, whose consumer ends that series' trial alone): then it is passed on."""
    consumers = list(consumers)
    control = control or RunControl()
    config = scenario.config
    last_step = (checkpoints.resumed_step or 0) if checkpoints is not None else 0

    def emit(event: Event) -> None:
        for consumer in consumers:
            consumer.handle(event)

    end: Event
    failed: SeriesFailed | None = None
    try:
        source = str(scenario.path) if scenario.path else config.name
        device = resolve_device(config.device, source)
        seed_everything(config.seed)
        emit(
            RunStarted(
                scenario=config.name,
                kind=config.kind,
                series=tuple(config.series()),
                total_steps=config.total_steps(),
                device=device,
                seed=config.seed,
                run_dir=run_dir,
                resumed_from=checkpoints.resumed_step if checkpoints is not None else None,
            )
        )
        runner = SCENARIO_KINDS[config.kind].load_runner()
        events = runner(config, RunContext(device=device, seed=config.seed, source=source, checkpoints=checkpoints))
        summary: dict = {}
        try:
            while True:
                try:
                    event = next(events)
                except StopIteration as done:
                    summary = done.value or {}  # a runner may return its own summary (a ranking)
                    break
                if isinstance(event, Scalars):
                    last_step = max(last_step, event.step)
                if isinstance(event, SeriesFailed) and not series_may_fail:
                    failed = event
                    break
                emit(event)
                control.wait_while_paused()
                if control.should_stop():
                    break
        finally:
            events.close()
        if failed is not None:
            end = RunFailed(last_step, failed.error)
        else:
            end = RunInterrupted(last_step) if control.should_stop() else RunFinished(last_step, summary)
    except KeyboardInterrupt:
        end = RunInterrupted(last_step)
    except PlastilabError as exc:
        end = RunFailed(last_step, str(exc))
    except Exception as exc:  # a bug: keep one line for the face, the traceback for the log
        end = RunFailed(last_step, f"{type(exc).__name__}: {exc}", details=traceback.format_exc())
    try:
        emit(end)
    except KeyboardInterrupt:  # a second Ctrl-C while the files close: close them anyway
        emit(end)
    return end


def seed_everything(seed: int) -> None:

    import torch  # deferred: pulls in torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
