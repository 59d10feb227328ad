"""The end-of-run report, rebuilt from the run folder alone: a summary table and plotext curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotext as plt
from rich.console import Console
from rich.table import Table
from rich.text import Text

from plastilab.core.events import Scalars, TaskBoundary
from plastilab.core.presentation import Presentation, SummaryTable, presentation_for
from plastilab.rundir.reader import RunFolder
from plastilab.rundir.state import read_state

MAX_TASK_COLUMNS = 10
TASK_COLUMN_WIDTH = 9  # "task 12" and a border
HEADLINE_COLUMN_WIDTH = 11
MOOD_STYLES = {"good": "green", "bad": "red"}


def presentation_of(run: RunFolder) -> Presentation:
    """What the run's scenario kind asks the report to show."""
    return presentation_for(run.meta.get("kind") or run.scenario.get("kind"))


def summary_table(run: RunFolder, width: int = 100) -> Table:
    """Per series: final loss of each task (as many of the last tasks as fit in ``width``), then
    the final value of each headline tag of its kind that the run logged (return, dead units…)."""
    series = run.summary_or_rebuilt().get("series", {})
    n_tasks = max((len(s.get("per_task", {}).get("task/final_loss", [])) for s in series.values()), default=0)
    headlines = [h for h in presentation_of(run).headlines if any(h.tag in s.get("final", {}) for s in series.values())]
    name_width = max((len(name) for name in series), default=6) + 3
    room = (width - name_width - HEADLINE_COLUMN_WIDTH * len(headlines)) // TASK_COLUMN_WIDTH
    first = max(0, n_tasks - max(2, min(MAX_TASK_COLUMNS, room)))
    what = "final loss of each task" if n_tasks else "final values"
    table = Table(title=Text(f"{run.meta.get('scenario', run.path.name)}: {what} ({read_state(run.path)})"))
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
        table.add_row(Text(name), *cells)
    return table


def extra_tables(run: RunFolder) -> list[Table]:
    """The tables the run's kind adds to the report (a ranking, say)."""
    return [_rich_table(t) for t in presentation_of(run).summary_tables(run.summary or {}, run.scenario)]


def seeds_table(run: RunFolder, width: int = 100) -> Table | None:
    """Per variant run over several seeds: the mean ± 95% interval over seeds of each task's
    final loss (as many of the last tasks as fit) and of each headline tag, and the seed count."""
    summary = run.summary_or_rebuilt()
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
    table = Table(title=Text(f"{run.meta.get('scenario', run.path.name)}: {what}, mean ± {method} over seeds"))
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
        table.add_row(Text(name), str(group["n_seeds"]), *cells)
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
        drawn.add_row(*(Text(cell.text, style=MOOD_STYLES.get(cell.mood or "", "")) for cell in row))
    return drawn


def _loss_cell(value: float | None) -> Text:
    if value is None:
        return Text("nan", style="red")
    style = "green" if value < 0.1 else ("yellow" if value < 1.0 else "red")
    return Text(f"{value:.2f}", style=style)


def learning_curves(run: RunFolder, width: int = 100, height: int = 22) -> str:
    """The kind's main curve (its training loss) of every series against steps, task boundaries
    as vertical lines."""
    curves: dict[str, tuple[list[int], list[float]]] = {}
    boundaries: set[int] = set()
    tag = presentation_of(run).main_curve
    for event in run.events():
        if isinstance(event, TaskBoundary):
            if event.step > 0:
                boundaries.add(event.step)
        elif isinstance(event, Scalars):
            if tag in event.values:
                xs, ys = curves.setdefault(event.series, ([], []))
                xs.append(event.step)
                ys.append(event.values[tag])
    if not curves:
        return ""
    plt.clf()
    plt.theme("clear")
    plt.plotsize(width, height)
    for name, (xs, ys) in curves.items():
        finite = [(x, y) for x, y in zip(xs, ys) if y == y and abs(y) != float("inf")]
        if finite:
            plt.plot([x for x, _ in finite], [y for _, y in finite], label=name)
    for step in sorted(boundaries):
        plt.vline(step, "gray")
    # Loss spikes at task changes would flatten the range that matters: clip the axis above
    # the bulk of the values (the spikes stay visible, cut at the top).
    values = np.array([y for _, ys in curves.values() for y in ys if np.isfinite(y)])
    if values.size:
        low, high = float(values.min()), float(np.percentile(values, 98))
        if float(values.max()) > 1.5 * high > low:
            plt.ylim(low, 1.5 * high)
    plt.title(f"{tag} by step" + (" (vertical lines: new task)" if boundaries else ""))
    plt.xlabel("step")
    return plt.build()


def print_report(run_dir: str | Path, console: Console | None = None, show_error: bool = True) -> None:
    console = console or Console()
    run = RunFolder.open(run_dir)
    if run.summary_or_rebuilt().get("series"):
        console.print(summary_table(run, console.width))
    over_seeds = seeds_table(run, console.width)
    if over_seeds is not None:
        console.print(over_seeds)
    for table in extra_tables(run):
        console.print(table)
    chart = learning_curves(run, width=min(console.width, 120))
    if chart:
        console.print(Text.from_ansi(chart))
    error = run.status.get("error")
    if error and show_error:
        console.print(Text(str(error), style="red"))
    console.print(Text(f"run folder: {run.path}"))
