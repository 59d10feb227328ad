"""Typed events: the only thing a running scenario tells the world.

Every consumer (run-folder writer, headless progress, TUI) sees the same stream. Events are
plain frozen dataclasses so they pickle across the spawn boundary to the TUI's training process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RunStarted:
    scenario: str  # the scenario's name, e.g. "adam-quick"
    kind: str  # the scenario kind, e.g. "adam_instability"
    series: tuple[str, ...]  # every series the run will log, in display order
    total_steps: int  # steps each series will take
    device: str
    seed: int
    run_dir: str | None = None
    resumed_from: int | None = None  # a resumed run: the checkpoint's step it continues after


@dataclass(frozen=True)
class Scalars:
    """Several scalars of one series at one step (tags group by slash: ``train/loss``)."""

    step: int
    series: str
    values: dict[str, float]
    wall_time: float


@dataclass(frozen=True)
class TaskBoundary:
    """A new task (new targets) starts at ``step``; ``task`` counts from 0."""

    step: int
    task: int
    series: str | None = None  # None: every series


@dataclass(frozen=True)
class Histogram:
    """Counts over bins, e.g. a Hessian eigenvalue density; ``edges`` has one more entry."""

    step: int
    series: str
    tag: str
    counts: np.ndarray
    edges: np.ndarray


@dataclass(frozen=True)
class Matrix:
    """A 2-D array, e.g. the gradient-covariance Gram matrix; ``labels`` name rows/columns."""

    step: int
    series: str
    tag: str
    values: np.ndarray
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Curve:
    """A y-over-x curve measured at one step, e.g. the plasticity probe's learning curve."""

    step: int
    series: str
    tag: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Log:
    level: str  # "info" | "warning" | "error"
    message: str
    step: int | None = None


@dataclass(frozen=True)
class SeriesFailed:
    """One series' training cannot go on (its loss became NaN); the run's other series can.

    A run of one trial ends failed with ``error`` at once (the driver does it, so the run folder
    reads as before); a study's population ends only the trial that series belongs to."""

    step: int
    series: str
    error: str  # one line a person can act on


@dataclass(frozen=True)
class RunFinished:
    step: int
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFailed:
    step: int
    error: str  # one line a person can act on
    details: str = ""  # a traceback, for a bug; kept in the run folder, not shown


@dataclass(frozen=True)
class RunInterrupted:
    step: int


ArrayEvent = Histogram | Matrix | Curve
EndEvent = RunFinished | RunFailed | RunInterrupted
Event = RunStarted | Scalars | TaskBoundary | Histogram | Matrix | Curve | Log | SeriesFailed | RunFinished | RunFailed | RunInterrupted
