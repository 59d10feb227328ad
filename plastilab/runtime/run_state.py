"""What the dashboard knows about one run, folded from its events. No Textual in here.

The reader worker delivers events in batches; ``RunState.apply`` folds each one in and bumps
``version``, and the dashboard's redraw timer draws only when the version moved.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import deque
from dataclasses import dataclass, field, fields

from plastilab.core.events import (
    Curve,
    Event,
    Histogram,
    Log,
    Matrix,
    RunFailed,
    RunStarted,
    Scalars,
    TaskBoundary,
)
from plastilab.core.safe_text import shown
from plastilab.rundir.state import ABANDONED, FINAL_STATES, RunAbandoned, RunRewound, is_end_event, state_of
from plastilab.runtime.array_history import ArrayHistory
from plastilab.runtime.history import DecimatedHistory

RATE_WINDOW_S = 10.0
LOG_LINES = 500


@dataclass
class LogLine:
    level: str  # info | warning | error
    message: str
    step: int | None = None


@dataclass
class RunState:
    history_capacity: int = 2048
    scenario: str = ""
    kind: str = ""
    series: list[str] = field(default_factory=list)
    total_steps: int = 0
    device: str = "?"
    seed: int | None = None
    run_dir: str | None = None
    state: str = "waiting"  # waiting, running, paused, stopping, then one of rundir.state.FINAL_STATES
    error: str | None = None
    live: bool = False  # a clock that runs now (a live or tailed run), not a replay
    overlay: bool = False  # several runs overlaid: their clocks do not add up to a speed
    boundaries: list[int] = field(default_factory=list)  # steps where a new task starts
    tasks: int = 0
    scalars: dict[str, dict[str, DecimatedHistory]] = field(default_factory=dict)  # series -> tag -> history
    latest: dict[str, dict[str, float]] = field(default_factory=dict)  # series -> tag -> value
    last_step: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, dict[str, Histogram | Matrix | Curve]] = field(default_factory=dict)  # tag -> series -> latest event
    array_history: ArrayHistory = field(default_factory=ArrayHistory)  # densities, probe curves by checkpoint
    logs: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    log_total: int = 0  # lines ever logged (the deque keeps the last LOG_LINES)
    version: int = 0
    started_at: float | None = None  # this process's clock when the run started
    ended_at: float | None = None
    first_wall: float | None = None  # the trainer's clock (Scalars.wall_time)
    last_wall: float | None = None
    _rate_samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=256))
    _first_sample: tuple[float, float] | None = None
    _boundary_set: set[int] = field(default_factory=set)

    # -- folding events in ------------------------------------------------------------------
    def apply_all(self, events: list[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        self.version += 1
        if isinstance(event, Scalars):
            self._scalars(event)
        elif isinstance(event, TaskBoundary):
            if event.step > 0 and event.step not in self._boundary_set:
                self._boundary_set.add(event.step)
                bisect.insort(self.boundaries, event.step)
            self.tasks = max(self.tasks, event.task + 1)
        elif isinstance(event, (Histogram, Matrix, Curve)):
            self.arrays.setdefault(event.tag, {})[event.series] = event
            self.array_history.add(event)
        elif isinstance(event, Log):
            self.log(event.level, event.message, event.step)
        elif isinstance(event, RunStarted):
            self.scenario, self.kind = shown(event.scenario, 80), shown(event.kind, 40)
            for name in event.series:
                self._ensure_series(name)
            self.total_steps = max(self.total_steps, event.total_steps)
            self.device, self.seed = shown(event.device, 40), event.seed
            self.run_dir = event.run_dir or self.run_dir
            if self.state in ("waiting", "starting"):
                self.state = "running"
            if self.started_at is None:
                self.started_at = time.time()
        elif is_end_event(event):
            self._end(state_of(event))
            if isinstance(event, RunFailed):
                self.error = shown(event.error, 2000)
                self.log("error", event.error, event.step)
        elif isinstance(event, RunAbandoned):  # a followed folder whose writer is gone
            self._end(ABANDONED)
            self.error = shown(event.reason, 2000)
            self.log("error", event.reason, event.step)
        elif isinstance(event, RunRewound):  # a followed folder was resumed: its files were cut back
            self._start_over(event.reason)

    def _start_over(self, reason: str) -> None:
        """Everything read so far dropped, as for a fresh replay (the same object: the screen keeps it)."""
        fresh = RunState(history_capacity=self.history_capacity, live=self.live, overlay=self.overlay)
        version = self.version
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))
        self.version = version  # only grows: a redraw keyed on it still happens
        self.log("info", reason)

    def _end(self, state: str) -> None:
        self.state = state
        self.ended_at = time.time()

    def _ensure_series(self, name: str) -> None:
        if name not in self.scalars:
            self.series.append(name)
            self.scalars[name] = {}
            self.latest[name] = {}
            self.last_step[name] = 0

    def _scalars(self, event: Scalars) -> None:
        self._ensure_series(event.series)
        histories = self.scalars[event.series]
        latest = self.latest[event.series]
        for tag, value in event.values.items():
            value = float(value)
            history = histories.get(tag)
            if history is None:
                history = histories[tag] = DecimatedHistory(self.history_capacity)
            history.append(float(event.step), value)
            latest[tag] = value
        if event.step > self.last_step[event.series]:
            self.last_step[event.series] = event.step
        wall = event.wall_time
        if wall:
            if self.first_wall is None:
                self.first_wall = wall
            self.last_wall = wall if self.last_wall is None else max(self.last_wall, wall)
            samples = self._rate_samples
            if self._first_sample is None:
                self._first_sample = (wall, self.progress())
            if not samples or wall - samples[-1][0] >= 0.25:
                samples.append((wall, self.progress()))
            else:
                samples[-1] = (samples[-1][0], self.progress())

    def log(self, level: str, message: str, step: int | None = None) -> None:
        # Log lines and errors come from files and child processes: shown as text, never obeyed.
        self.logs.append(LogLine(shown(level, 10), shown(message, 2000, one_line=False), step))
        self.log_total += 1
        self.version += 1

    def set_state(self, state: str) -> None:
        if self.state not in FINAL_STATES:
            self.state = state
            self.version += 1

    # -- what the panels show ----------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self.state in FINAL_STATES

    def arrays_of(self, kind: type[Histogram | Matrix | Curve], hidden: set[str] | frozenset[str] = frozenset()) -> list[Histogram | Matrix | Curve]:
        """The latest array event of each (tag, series) of one kind (``Matrix``...), by tag, then series order."""
        order = {name: i for i, name in enumerate(self.series)}
        found = []
        for tag in sorted(self.arrays):
            events = [e for name, e in self.arrays[tag].items() if isinstance(e, kind) and name not in hidden]
            found.extend(sorted(events, key=lambda e: order.get(e.series, len(order))))
        return found

    def tags(self) -> list[str]:
        """Every scalar tag seen, grouped by their slash prefix."""
        seen: dict[str, None] = {}
        for histories in self.scalars.values():
            for tag in histories:
                seen[tag] = None
        return sorted(seen, key=lambda t: (t.split("/")[0], t))

    def progress(self) -> float:
        """Steps done, averaged over series (right whether series run side by side or in turn)."""
        if not self.last_step:
            return 0.0
        return sum(self.last_step.values()) / max(len(self.series), len(self.last_step))

    def step(self) -> int:
        return max(self.last_step.values(), default=0)

    def steps_per_second(self) -> float | None:
        """Over the last ten seconds while live; over the whole run once it has ended or is replayed."""
        samples = self._rate_samples
        if len(samples) < 2 or self._first_sample is None or self.overlay:
            return None
        w1, p1 = samples[-1]
        if self.ended or not self.live:
            w0, p0 = self._first_sample
        else:
            w0, p0 = next(((w, p) for w, p in samples if w1 - w <= RATE_WINDOW_S), samples[0])
        if w1 <= w0:
            return None
        return (p1 - p0) / (w1 - w0)

    def eta_seconds(self) -> float | None:
        if self.ended or not self.total_steps:
            return None
        # The whole run's average rate, not the last ten seconds': it counts the time instruments
        # take at their checkpoints (a probe can outlast the training steps between two of them).
        rate = self._average_rate() if self.live and not self.overlay else None
        rate = rate or self.steps_per_second()
        if not rate or rate <= 0:
            return None
        return max(0.0, (self.total_steps - self.progress()) / rate)

    def _average_rate(self) -> float | None:
        if not self._rate_samples or self._first_sample is None:
            return None
        (w0, p0), (w1, p1) = self._first_sample, self._rate_samples[-1]
        return (p1 - p0) / (w1 - w0) if w1 > w0 else None

    def elapsed_seconds(self, now: float | None = None) -> float | None:
        """From the first numbers to the last (a replay), or to now (a live run)."""
        if self.overlay:
            return None
        if self.live and not self.ended:
            start = self.first_wall if self.first_wall is not None else self.started_at
            return None if start is None else max(0.0, (now or time.time()) - start)
        if self.first_wall is not None and self.last_wall is not None:
            return self.last_wall - self.first_wall
        if self.started_at is not None and self.ended_at is not None:
            return self.ended_at - self.started_at
        return None


def format_clock(seconds: float | None) -> str:
    """A clock reading: ``3:05``, ``1:02:05`` (``–`` when unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_value(value: float | None) -> str:
    if value is None:
        return "–"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e4 or magnitude < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4f}" if magnitude < 10 else f"{value:.2f}"
