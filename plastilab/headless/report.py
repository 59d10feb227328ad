"""The end-of-run report, rebuilt from the run folder alone: a summary table and plotext curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotext as plt
from rich.console import Console
from rich.table import Table
from rich.text import Text

from plastilab.core.events import Scalars, TaskBoundary
from plastilab.rundir.reader import RunFolder

CURVE_TAGS = ("train/loss", "td/loss")
MAX_TASK_COLUMNS = 10


# Final values worth a column when a run logged them: (tag, heading, format).
HEADLINE_TAGS = (
    ("episode/return", "return", "{:.1f}"),
    ("td/loss", "TD loss", "{:.4f}"),
    ("probe/plasticity_loss", "plast. loss", "{:.3g}"),
    ("hessian/top_eigenvalue", "top eig.", "{:.3g}"),
    ("units/dead_fraction", "dead", "{:.0%}"),
)
TASK_COLUMN_WIDTH = 9  # "task 12" and a border
HEADLINE_COLUMN_WIDTH = 11


def summary_table(run: RunFolder, width: int = 100) -> Table:
    """Per series: final loss of each task (as many of the last tasks as fit in ``width``), then
    the final value of each headline tag the run logged (return, plasticity loss, dead units)."""
    series = run.summary_or_rebuilt().get("series", {})
    n_tasks = max((len(s.get("per_task", {}).get("task/final_loss", [])) for s in series.values()), default=0)
    headlines = [h for h in HEADLINE_TAGS if any(h[0] in s.get("final", {}) for s in series.values())]
    name_width = max((len(name) for name in series), default=6) + 3
    room = (width - name_width - HEADLINE_COLUMN_WIDTH * len(headlines)) // TASK_COLUMN_WIDTH
    first = max(0, n_tasks - max(2, min(MAX_TASK_COLUMNS, room)))
    what = "final loss of each task" if n_tasks else "final values"
    table = Table(title=Text(f"{run.meta.get('scenario', run.path.name)}: {what} ({run.state})"))
    table.add_column("series", style="bold", no_wrap=True, min_width=name_width - 3)
    for task in range(first, n_tasks):
        table.add_column(f"task {task + 1}", justify="right")
    for _, heading, _ in headlines:
        table.add_column(heading, justify="right", no_wrap=True)
    for name, data in series.items():
        losses = data.get("per_task", {}).get("task/final_loss", [])
        cells = [_loss_cell(losses[i]) if i < len(losses) else Text("-") for i in range(first, n_tasks)]
        final = data.get("final", {})
        for tag, _, fmt in headlines:
            value = final.get(tag)
            cells.append(Text("-" if value is None else fmt.format(value)))
        table.add_row(Text(name), *cells)
    return table


def seeds_table(run: RunFolder, width: int = 100) -> Table | None:
    """Per variant run over several seeds: the mean ± 95% interval over seeds of each task's
    final loss (as many of the last tasks as fit) and of each headline tag, and the seed count."""
    summary = run.summary_or_rebuilt()
    groups = {name: g for name, g in summary.get("groups", {}).items() if g.get("n_seeds", 0) >= 2}
    if not groups:
        return None
    n_tasks = max((len(g.get("per_task", {}).get("task/final_loss", [])) for g in groups.values()), default=0)
    headlines = [h for h in HEADLINE_TAGS if any(h[0] in g.get("final", {}) for g in groups.values())]
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
    for _, heading, _ in headlines:
        table.add_column(heading, justify="right", no_wrap=True)
    for name, group in groups.items():
        intervals = group.get("per_task", {}).get("task/final_loss", [])
        cells = [_interval_cell(intervals[i], "{:.2f}", loss=True) if i < len(intervals) else Text("-") for i in range(first, n_tasks)]
        for tag, _, fmt in headlines:
            cells.append(_interval_cell(group.get("final", {}).get(tag), fmt))
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


def ranking_table(run: RunFolder) -> Table | None:
    """The interventions scenario's ranking, when the run's summary carries one."""
    extra = (run.summary or {}).get("scenario_summary", {})
    ranking = extra.get("ranking")
    if not ranking:
        return None
    window = extra.get("ranking_window", "?")
    table = Table(title=f"ranking: mean final loss over the last {window} iterations (change: from the first {window})")
    for name, justify in (("rank", "right"), ("combination", "left"), ("final loss", "right"), ("± seeds", "right"), ("change", "right")):
        table.add_column(name, justify=justify)
    for r in ranking:
        change = r.get("change")
        change_text = Text("nan" if change is None else f"{change:+.3f}", style="red" if change and change > 0.1 else "green")
        table.add_row(str(r["rank"]), Text(str(r["name"])), _number(r.get("final_loss")), _number(r.get("spread")), change_text)
    return table


def _number(value: float | None) -> str:
    return "nan" if value is None else f"{value:.3f}"


def _loss_cell(value: float | None) -> Text:
    if value is None:
        return Text("nan", style="red")
    style = "green" if value < 0.1 else ("yellow" if value < 1.0 else "red")
    return Text(f"{value:.2f}", style=style)


def learning_curves(run: RunFolder, width: int = 100, height: int = 22) -> str:
    """The training loss of every series against steps, task boundaries as vertical lines."""
    curves: dict[str, tuple[list[int], list[float]]] = {}
    boundaries: set[int] = set()
    tag = None
    for event in run.events():
        if isinstance(event, TaskBoundary):
            if event.step > 0:
                boundaries.add(event.step)
        elif isinstance(event, Scalars):
            tag = tag or next((t for t in CURVE_TAGS if t in event.values), None)
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
    ranking = ranking_table(run)
    if ranking is not None:
        console.print(ranking)
    chart = learning_curves(run, width=min(console.width, 120))
    if chart:
        console.print(Text.from_ansi(chart))
    error = run.status.get("error")
    if error and show_error:
        console.print(Text(str(error), style="red"))
    console.print(Text(f"run folder: {run.path}"))
