"""Progress on stderr while a headless run trains: a rich display on a terminal, plain lines
otherwise (logs, CI, ``nohup``), so a server's log file stays readable."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from plastilab.core.events import Event, Log, RunStarted, Scalars
from plastilab.core.presentation import DEFAULT_PRESENTATION, presentation_for

PLAIN_PERIOD_S = 10.0


@dataclass
class SeriesProgress:
    step: int = 0
    loss: float | None = None
    started: float | None = None  # the series' first report: series may run one after another
    first_step: int = 0

    def update(self, step: int, loss: float | None) -> None:
        if self.started is None:
            self.started, self.first_step = time.monotonic(), step
        self.step = step
        self.loss = loss if loss is not None else self.loss

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started if self.started is not None else 0.0
        return (self.step - self.first_step) / elapsed if elapsed > 0 else 0.0


def loss_of(values: dict[str, float], tags: tuple[str, ...]) -> float | None:
    """The first of the kind's progress ``tags`` among ``values`` (None: this event has none)."""
    for tag in tags:
        if tag in values:
            return values[tag]
    return None


class RichProgress:
    """One bar per series: step, steps/s, ETA, current loss."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<16}", markup=False, style="bold"),
            BarColumn(bar_width=24),
            TextColumn("{task.completed:>7}/{task.total}"),
            TextColumn("{task.fields[rate]:>6.0f} steps/s"),
            TimeRemainingColumn(),
            TextColumn("loss {task.fields[loss]}", markup=False),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, int] = {}
        self.series: dict[str, SeriesProgress] = {}
        self.loss_tags = DEFAULT_PRESENTATION.progress_tags

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.loss_tags = presentation_for(event.kind).progress_tags
            # Names, paths and messages are printed as Text: a "[" in them is not markup.
            self.console.print(Text.assemble((event.scenario, "bold"), f" on {event.device}, seed {event.seed} -> {event.run_dir}"))
            for name in event.series:
                self.tasks[name] = self.progress.add_task(name, total=event.total_steps, rate=0.0, loss="-")
                self.series[name] = SeriesProgress()
            self.progress.start()
        elif isinstance(event, Scalars) and event.series in self.tasks:
            state = self.series[event.series]
            state.update(event.step, loss_of(event.values, self.loss_tags))
            fields = {"rate": state.rate()}
            if state.loss is not None:
                fields["loss"] = f"{state.loss:.4f}"
            self.progress.update(self.tasks[event.series], completed=event.step, **fields)
        elif isinstance(event, Log):
            style = {"warning": "yellow", "error": "red"}.get(event.level, "dim")
            self.progress.console.print(Text(f"{event.level}: {event.message}", style=style))

    def close(self) -> None:
        self.progress.stop()


class PlainProgress:
    """A line every ``period`` seconds: step, steps/s, ETA and each series' loss."""

    def __init__(self, stream=None, period: float = PLAIN_PERIOD_S) -> None:
        self.stream = stream or sys.stderr
        self.period = period
        self.total = 0
        self.name = ""
        self.series: dict[str, SeriesProgress] = {}
        self.loss_tags = DEFAULT_PRESENTATION.progress_tags
        self.started = self.last_print = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.loss_tags = presentation_for(event.kind).progress_tags
            self.total, self.name = event.total_steps, event.scenario
            self.started = time.monotonic()
            self.series = {name: SeriesProgress() for name in event.series}
            self._print(f"{event.scenario}: {len(event.series)} series x {event.total_steps} steps on {event.device} -> {event.run_dir}")
        elif isinstance(event, Scalars) and event.series in self.series:
            self.series[event.series].update(event.step, loss_of(event.values, self.loss_tags))
            if time.monotonic() - self.last_print >= self.period:
                self._print(self.line())
        elif isinstance(event, Log):
            self._print(f"{event.level}: {event.message}")

    def line(self) -> str:
        # Series may train side by side or one after another: count the steps of all of them.
        done = sum(s.step for s in self.series.values())
        total = self.total * len(self.series)
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
        losses = " ".join(f"{name}={s.loss:.4f}" for name, s in self.series.items() if s.loss is not None)
        return f"[{self.name}] {done}/{total} steps ({done / max(total, 1):.0%}) {rate:.0f} steps/s ETA {eta} | loss {losses}"

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)
        self.last_print = time.monotonic()

    def close(self) -> None:
        pass


def make_progress(quiet: bool):
    """The right progress display for stderr, or None when ``--quiet``."""
    if quiet:
        return None
    return RichProgress() if sys.stderr.isatty() else PlainProgress()
