"""The end-of-run report, rebuilt from the run folder alone: a summary table and plotext curves.

metrics.jsonl is read once, streamed: the summary (when summary.json is missing or damaged) and
the curves are folded in line by line, and each curve keeps a bounded number of points (the
lowest and highest of each stretch, so a spike survives), so memory does not grow with the file.
Every string from the folder is shown as text: no markup, no control sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotext as plt
from rich.console import Console
from rich.table import Table
from rich.text import Text

from plastilab.core.presentation import Presentation, SummaryTable, presentation_for
from plastilab.core.safe_text import shown
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir.reader import RunFolder
from plastilab.rundir.state import read_state
from plastilab.rundir.summary import SummaryBuilder

MAX_TASK_COLUMNS = 10
TASK_COLUMN_WIDTH = 9  # "task 12" and a border
HEADLINE_COLUMN_WIDTH = 11
MOOD_STYLES = {"good": "green", "bad": "red"}
CURVE_BUCKETS = 1000  # per series; the chart is at most 120 columns wide
MAX_BOUNDARIES = 200  # more task lines than that would only paint the chart grey
# plotext computes spans and labels of its data: values near ±1e308 overflow it (NaN ticks, a
# blank chart). Beyond ±1e12 a loss has diverged; the chart draws it at the limit.
PLOT_LIMIT = 1e12


def presentation_of(run: RunFolder) -> Presentation:
    """What the run's scenario kind asks the report to show."""
    return presentation_for(run.meta.get("kind") or run.scenario.get("kind"))


class BoundedCurve:
    """A curve of any length in at most ``capacity`` buckets; each bucket keeps the lowest and
    the highest of the points it stands for. When full, neighbours merge and the stride doubles."""

    def __init__(self, capacity: int = CURVE_BUCKETS) -> None:
        self.capacity = capacity
        self.stride = 1
        self.buckets: list[tuple[float, float, float, float]] = []  # (x_lo, y_lo, x_hi, y_hi)
        self._open: list[float] | None = None
        self._n = 0

    def add(self, x: float, y: float) -> None:
        if self._open is None:
            self._open, self._n = [x, y, x, y], 0
        elif y < self._open[1]:
            self._open[0:2] = [x, y]
        elif y > self._open[3]:
            self._open[2:4] = [x, y]
        self._n += 1
        if self._n >= self.stride:
            self.buckets.append(tuple(self._open))  # type: ignore[arg-type]
            self._open = None
            if len(self.buckets) >= self.capacity:
                pairs = zip(self.buckets[0::2], self.buckets[1::2])
                self.buckets = [
                    (*min(a[:2], b[:2], key=lambda p: p[1]), *max(a[2:], b[2:], key=lambda p: p[1])) for a, b in pairs
                ]
                self.stride *= 2

    def points(self) -> tuple[list[float], list[float]]:
        xs: list[float] = []
        ys: list[float] = []
        for x_lo, y_lo, x_hi, y_hi in self.buckets + ([tuple(self._open)] if self._open else []):
            for x, y in sorted({(x_lo, y_lo), (x_hi, y_hi)}):
                xs.append(x)
                ys.append(y)
        return xs, ys


@dataclass
class MetricsScan:
    """What one streaming pass over metrics.jsonl gives the report."""

    summary: dict[str, Any] | None = None  # rebuilt, when summary.json was missing or damaged
    tag: str | None = None  # the curve's tag: the kind's main curve
    curves: dict[str, BoundedCurve] = field(default_factory=dict)
    boundaries: set[int] = field(default_factory=set)
    skipped: int = 0  # malformed lines left out


def scan_metrics(run: RunFolder) -> MetricsScan:
    scan = MetricsScan(tag=presentation_of(run).main_curve)
    builder = SummaryBuilder() if run.summary is None else None
    tail = run.metrics_tail()
    for r in tail.iter_new():
        step, series, tag = r["step"], r["series"], r["tag"]
        value = record_value(r)
        if builder is not None:
            builder.add(step, series, tag, value)
        if tag == "task/index":
            if step > 0 and len(scan.boundaries) < MAX_BOUNDARIES:
                scan.boundaries.add(step)
            continue
        if tag == scan.tag and math.isfinite(value):
            curve = scan.curves.get(series)
            if curve is None:
                curve = scan.curves[series] = BoundedCurve()
            curve.add(step, value)
    scan.skipped = tail.skipped
    if builder is not None:
        scan.summary = builder.summary()
    return scan


def summary_table(run: RunFolder, width: int = 100, summary: dict[str, Any] | None = None) -> Table:
    """Per series: final loss of each task (as many of the last tasks as fit in ``width``), then
    the final value of each headline tag of its kind that the run logged (return, dead units…)."""
    series = (summary or run.summary_or_rebuilt()).get("series", {})
    n_tasks = max((len(s.get("per_task", {}).get("task/final_loss", [])) for s in series.values()), default=0)
    headlines = [h for h in presentation_of(run).headlines if any(h.tag in s.get("final", {}) for s in series.values())]
    name_width = max((len(shown(name, 60)) for name in series), default=6) + 3
    room = (width - name_width - HEADLINE_COLUMN_WIDTH * len(headlines)) // TASK_COLUMN_WIDTH
    first = max(0, n_tasks - max(2, min(MAX_TASK_COLUMNS, room)))
    what = "final loss of each task" if n_tasks else "final values"
    title = shown(run.meta.get("scenario") or run.path.name, 80)
    table = Table(title=Text(f"{title}: {what} ({read_state(run.path)})"))
    table.add_column("series", style="bold", no_wrap=True, min_width=name_width - 3)
    for task in range(first, n_tasks):
        table.add_column(f"task {task + 1}", justify="right")
    for headline in headlines:
        table.add_column(headline.heading, justify="right", no_wrap=True)
    for name, data in series.items():
        losses = data.get("per_task", {}).get("task/final_loss", [])
        cells = [_loss_cell(losses[i]) if i < len(losses) else Text("-") for i in range(first, n_tasks)]
        final = data.get("final", {})
        for headline in headlines:
            value = final.get(headline.tag)
            cells.append(Text("-" if value is None else headline.format.format(value)))
        table.add_row(Text(shown(name, 60)), *cells)
    return table


def extra_tables(run: RunFolder) -> list[Table]:
    """The tables the run's kind adds to the report (a ranking, say)."""
    return [_rich_table(t) for t in presentation_of(run).summary_tables(run.summary or {}, run.scenario)]


def seeds_table(run: RunFolder, width: int = 100, summary: dict[str, Any] | None = None) -> Table | None:
    """Per variant run over several seeds: the mean ± 95% interval over seeds of each task's
    final loss (as many of the last tasks as fit) and of each headline tag, and the seed count."""
    summary = summary or run.summary_or_rebuilt()
    groups = {name: g for name, g in summary.get("groups", {}).items() if g.get("n_seeds", 0) >= 2}
    if not groups:
        return None
    n_tasks = max((len(g.get("per_task", {}).get("task/final_loss", [])) for g in groups.values()), default=0)
    headlines = [h for h in presentation_of(run).headlines if any(h.tag in g.get("final", {}) for g in groups.values())]
    # A cell reads "2.23±0.06": about 12 columns with its border, 14 for a headline's.
    room = (width - max(len(n) for n in groups) - 11 - 14 * len(headlines)) // 12
    first = max(0, n_tasks - max(2, min(MAX_TASK_COLUMNS, room)))
    method = summary.get("interval_method", "95% t interval")
    what = "final loss of each task" if n_tasks else "final values"
    title = shown(run.meta.get("scenario") or run.path.name, 80)
    table = Table(title=Text(f"{title}: {what}, mean ± {shown(method, 40)} over seeds"))
    table.add_column("variant", style="bold", no_wrap=True)
    table.add_column("seeds", justify="right", no_wrap=True, min_width=5)
    for task in range(first, n_tasks):
        table.add_column(f"task {task + 1}", justify="right", no_wrap=True)
    for headline in headlines:
        table.add_column(headline.heading, justify="right", no_wrap=True)
    for name, group in groups.items():
        intervals = group.get("per_task", {}).get("task/final_loss", [])
        cells = [_interval_cell(intervals[i], "{:.2f}", loss=True) if i < len(intervals) else Text("-") for i in range(first, n_tasks)]
        for headline in headlines:
            cells.append(_interval_cell(group.get("final", {}).get(headline.tag), headline.format))
        table.add_row(Text(shown(name, 60)), str(group["n_seeds"]), *cells)
    return table


def _interval_cell(interval: dict | None, fmt: str, loss: bool = False) -> Text:
    """``mean ± half-width`` (a missing seed shows as ``(n=2)``: the interval is over fewer)."""
    if not interval or interval.get("mean") is None:
        return Text("nan", style="red")
    mean, half = interval["mean"], interval.get("half_width")
    text = fmt.format(mean) + ("" if half is None else "±" + fmt.format(half))
    if interval.get("n_missing"):
        text += f" (n={interval['n']})"
    style = "" if not loss else ("green" if mean < 0.1 else ("yellow" if mean < 1.0 else "red"))
    return Text(text, style=style)


def _rich_table(table: SummaryTable) -> Table:
    drawn = Table(title=table.title)
    for column in table.columns:
        drawn.add_column(column.heading, justify=column.justify)
    for row in table.rows:
        drawn.add_row(*(Text(shown(cell.text, 80), style=MOOD_STYLES.get(cell.mood or "", "")) for cell in row))
    return drawn


def _loss_cell(value: float | None) -> Text:
    if value is None:
        return Text("nan", style="red")
    style = "green" if value < 0.1 else ("yellow" if value < 1.0 else "red")
    return Text(f"{value:.2f}", style=style)


def learning_curves(run: RunFolder, width: int = 100, height: int = 22, scan: MetricsScan | None = None) -> str:
    """The kind's main curve (its training loss) of every series against steps, task boundaries
    as vertical lines."""
    scan = scan or scan_metrics(run)
    curves = {name: curve.points() for name, curve in scan.curves.items()}
    curves = {name: xy for name, xy in curves.items() if xy[0]}
    if not curves:
        return ""
    plt.clf()
    plt.theme("clear")
    plt.plotsize(width, height)
    curves = {name: (xs, [min(max(y, -PLOT_LIMIT), PLOT_LIMIT) for y in ys]) for name, (xs, ys) in curves.items()}
    for name, (xs, ys) in curves.items():
        plt.plot(xs, ys, label=shown(name, 40))
    for step in sorted(scan.boundaries):
        plt.vline(step, "gray")
    # Loss spikes at task changes would flatten the range that matters: clip the axis above
    # the bulk of the values (the spikes stay visible, cut at the top).
    values = np.array([y for _, ys in curves.values() for y in ys])
    low, high = float(values.min()), float(np.percentile(values, 98))
    top = 1.5 * high
    if math.isfinite(top) and float(values.max()) > top > low:
        plt.ylim(low, top)
    boundaries = " (vertical lines: new task)" if scan.boundaries else ""
    plt.title(f"{scan.tag} by step{boundaries}")
    plt.xlabel("step")
    return plt.build()


def print_report(run_dir: str | Path, console: Console | None = None, show_error: bool = True) -> None:
    console = console or Console()
    run = RunFolder.open(run_dir)
    scan = scan_metrics(run)
    summary = run.summary or scan.summary or {}
    if summary.get("series"):
        console.print(summary_table(run, console.width, summary))
    over_seeds = seeds_table(run, console.width, summary)
    if over_seeds is not None:
        console.print(over_seeds)
    for table in extra_tables(run):
        console.print(table)
    chart = learning_curves(run, width=min(console.width, 120), scan=scan)
    if chart:
        console.print(Text.from_ansi(chart))
    if scan.skipped:
        lines = "line" if scan.skipped == 1 else "lines"
        console.print(Text(f"metrics.jsonl: {scan.skipped:,} malformed {lines} skipped", style="yellow"))
    error = run.status.get("error")
    if error and show_error:
        console.print(Text(shown(error), style="red"))
    console.print(Text(f"run folder: {shown(run.path)}"))
