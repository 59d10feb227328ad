"""Progress on stderr while a headless run trains: a rich display on a terminal, plain lines
otherwise (logs, CI, ``nohup``), so a server's log file stays readable."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from plastilab.core.events import Event, Log, RunStarted, Scalars

PLAIN_PERIOD_S = 10.0


@dataclass
class SeriesProgress:
    step: int = 0
    loss: float | None = None
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.step / elapsed if elapsed > 0 else 0.0


def loss_of(values: dict[str, float]) -> float | None:
    for tag in ("train/loss", "td/loss", "train/full_loss"):
        if tag in values:
            return values[tag]
    return None


class RichProgress:
    """One bar per series: step, steps/s, ETA, current loss."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description:<16}"),
            BarColumn(bar_width=24),
            TextColumn("{task.completed:>7}/{task.total}"),
            TextColumn("{task.fields[rate]:>6.0f} steps/s"),
            TimeRemainingColumn(),
            TextColumn("loss {task.fields[loss]}"),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, int] = {}
        self.series: dict[str, SeriesProgress] = {}

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(f"[bold]{event.scenario}[/] on {event.device}, seed {event.seed} -> {event.run_dir}")
            for name in event.series:
                self.tasks[name] = self.progress.add_task(name, total=event.total_steps, rate=0.0, loss="-")
                self.series[name] = SeriesProgress()
            self.progress.start()
        elif isinstance(event, Scalars) and event.series in self.tasks:
            state = self.series[event.series]
            state.step = event.step
            loss = loss_of(event.values)
            fields = {"rate": state.rate()}
            if loss is not None:
                fields["loss"] = f"{loss:.4f}"
            self.progress.update(self.tasks[event.series], completed=event.step, **fields)
        elif isinstance(event, Log):
            self.progress.console.print(f"[{'yellow' if event.level == 'warning' else 'red'}]{event.level}: {event.message}")

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
        self.last_print = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.total, self.name = event.total_steps, event.scenario
            self.series = {name: SeriesProgress() for name in event.series}
            self._print(f"{event.scenario}: {len(event.series)} series x {event.total_steps} steps on {event.device} -> {event.run_dir}")
        elif isinstance(event, Scalars) and event.series in self.series:
            state = self.series[event.series]
            state.step = event.step
            state.loss = loss_of(event.values) if loss_of(event.values) is not None else state.loss
            if time.monotonic() - self.last_print >= self.period:
                self._print(self.line())
        elif isinstance(event, Log):
            self._print(f"{event.level}: {event.message}")

    def line(self) -> str:
        steps = min((s.step for s in self.series.values()), default=0)
        rate = min((s.rate() for s in self.series.values()), default=0.0)
        eta = (self.total - steps) / rate if rate > 0 else float("inf")
        losses = " ".join(f"{name}={s.loss:.4f}" for name, s in self.series.items() if s.loss is not None)
        eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
        return f"[{self.name}] step {steps}/{self.total} {rate:.0f} steps/s ETA {eta_text} | loss {losses}"

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
