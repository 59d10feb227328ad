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
from plastilab.core.series_names import split_seeded_name

PLAIN_PERIOD_S = 10.0


@dataclass
class SeriesProgress:
    step: int = 0
    loss: float | None = None


class VariantProgress:
    """The seeds of one variant as one line or bar: their steps summed (seeds may train side by
    side or one after another), the mean of their latest losses, steps/s since the first report.
    A run of 20 seeded series reads as its variants, not as 20 bars."""

    def __init__(self, seeds: list[str]) -> None:
        self.seeds = {name: SeriesProgress() for name in seeds}
        self.started: float | None = None  # the first report: variants may run one after another
        self.first_step = 0

    def update(self, series: str, step: int, loss: float | None) -> None:
        if self.started is None:
            self.started, self.first_step = time.monotonic(), self.steps()
        seed = self.seeds[series]
        seed.step = step
        seed.loss = loss if loss is not None else seed.loss

    def steps(self) -> int:
        return sum(seed.step for seed in self.seeds.values())

    def loss(self) -> float | None:
        losses = [seed.loss for seed in self.seeds.values() if seed.loss is not None]
        return sum(losses) / len(losses) if losses else None

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started if self.started is not None else 0.0
        return (self.steps() - self.first_step) / elapsed if elapsed > 0 else 0.0

    def loss_text(self, name: str) -> str:
        loss = self.loss()
        if loss is None:
            return ""
        mean = "mean " if len(self.seeds) > 1 else ""
        return f"{name}={mean}{loss:.4f}"


def group_by_variant(series: tuple[str, ...]) -> dict[str, VariantProgress]:
    """Series ``<variant>/s<seed>`` grouped under their variant, in the order they first appear."""
    members: dict[str, list[str]] = {}
    for name in series:
        members.setdefault(split_seeded_name(name)[0], []).append(name)
    return {variant: VariantProgress(names) for variant, names in members.items()}


def loss_of(values: dict[str, float], tags: tuple[str, ...]) -> float | None:
    """The first of the kind's progress ``tags`` among ``values`` (None: this event has none)."""
    for tag in tags:
        if tag in values:
            return values[tag]
    return None


class RichProgress:
    """One bar per variant (its seeds together): steps, steps/s, ETA, current (mean) loss."""

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
        self.variants: dict[str, VariantProgress] = {}
        self.variant_of: dict[str, str] = {}
        self.loss_tags = DEFAULT_PRESENTATION.progress_tags

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.loss_tags = presentation_for(event.kind).progress_tags
            # Names, paths and messages are printed as Text: a "[" in them is not markup.
            self.console.print(Text.assemble((event.scenario, "bold"), f" on {event.device}, seed {event.seed} -> {event.run_dir}"))
            self.variants = group_by_variant(event.series)
            for variant, group in self.variants.items():
                label = f"{variant} ×{len(group.seeds)}" if len(group.seeds) > 1 else variant
                self.tasks[variant] = self.progress.add_task(label, total=event.total_steps * len(group.seeds), rate=0.0, loss="-")
                self.variant_of.update(dict.fromkeys(group.seeds, variant))
            self.progress.start()
        elif isinstance(event, Scalars) and event.series in self.variant_of:
            variant = self.variant_of[event.series]
            group = self.variants[variant]
            group.update(event.series, event.step, loss_of(event.values, self.loss_tags))
            fields = {"rate": group.rate()}
            if (loss := group.loss()) is not None:
                fields["loss"] = f"{loss:.4f}"
            self.progress.update(self.tasks[variant], completed=group.steps(), **fields)
        elif isinstance(event, Log):
            style = {"warning": "yellow", "error": "red"}.get(event.level, "dim")
            self.progress.console.print(Text(f"{event.level}: {event.message}", style=style))

    def close(self) -> None:
        self.progress.stop()


class PlainProgress:
    """A line every ``period`` seconds: step, steps/s, ETA and each variant's (mean) loss."""

    def __init__(self, stream=None, period: float = PLAIN_PERIOD_S) -> None:
        self.stream = stream or sys.stderr
        self.period = period
        self.total = 0
        self.name = ""
        self.n_series = 0
        self.variants: dict[str, VariantProgress] = {}
        self.variant_of: dict[str, str] = {}
        self.loss_tags = DEFAULT_PRESENTATION.progress_tags
        self.started = self.last_print = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.loss_tags = presentation_for(event.kind).progress_tags
            self.total, self.name = event.total_steps, event.scenario
            self.started = time.monotonic()
            self.n_series = len(event.series)
            self.variants = group_by_variant(event.series)
            self.variant_of = {name: variant for variant, group in self.variants.items() for name in group.seeds}
            self._print(f"{event.scenario}: {len(event.series)} series x {event.total_steps} steps on {event.device} -> {event.run_dir}")
        elif isinstance(event, Scalars) and event.series in self.variant_of:
            self.variants[self.variant_of[event.series]].update(event.series, event.step, loss_of(event.values, self.loss_tags))
            if time.monotonic() - self.last_print >= self.period:
                self._print(self.line())
        elif isinstance(event, Log):
            self._print(f"{event.level}: {event.message}")

    def line(self) -> str:
        # Series may train side by side or one after another: count the steps of all of them.
        done = sum(group.steps() for group in self.variants.values())
        total = self.total * self.n_series
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
        losses = " ".join(text for name, group in self.variants.items() if (text := group.loss_text(name)))
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
