"""The interventions comparison (the paper's §5.2 bar charts), for any run with several variants
and tasks: each variant's final loss over its last tasks, mean ± 95% t interval over seeds, with
each seed as a tick, best first. The window is the last quarter of the tasks, at most the
scenario's ``[ranking] window`` (the iterations ``plastilab report`` ranks by; else its default):
the last task alone of a five-task run, whose first tasks every variant fits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plastilab.analysis.figure_style import COLUMN_WIDTH_IN, NEUTRAL, counted, new_figure, series_styles
from plastilab.analysis.ranking import DEFAULT_WINDOW
from plastilab.analysis.runs import FINAL_LOSS, Run
from plastilab.core.statistics import mean_interval
from plastilab.core.registry import SCENARIO_KINDS


def last_tasks_mean(run: Run, window: int) -> tuple[dict[str, np.ndarray], int]:
    """Per variant, each seed's mean final loss over the last ``window`` tasks every seed finished."""
    table = run.per_task(FINAL_LOSS)
    n_tasks = int(table.groupby("series")["task"].max().min()) if not table.empty else 0
    width = max(1, min(window, n_tasks))
    kept = table[(table["task"] > n_tasks - width) & (table["task"] <= n_tasks)]
    per_seed = kept.groupby(["variant", "series"], sort=False)["value"].mean()
    return {variant: rows.to_numpy(dtype=float) for variant, rows in per_seed.groupby(level=0, sort=False)}, width


def chance_classes(scenario: dict[str, Any]) -> int | None:
    """The number of classes when the final loss is a cross-entropy over classes (chance: ln n),
    as the run's kind declares it; None for a kind that does not, or that this version does not know."""
    kind = SCENARIO_KINDS.get(str(scenario.get("kind", "")))
    return kind.chance_classes(scenario) if kind is not None and kind.chance_classes is not None else None


def variant_comparison(run: Run, each_seed: bool = True) -> Any | None:
    n_tasks = int(run.per_task(FINAL_LOSS).groupby("series")["task"].max().min() or 0) if not run.tag(FINAL_LOSS).empty else 0
    window = min(int(run.scenario.get("ranking", {}).get("window", DEFAULT_WINDOW)), max(1, n_tasks // 4))
    values, width = last_tasks_mean(run, window)
    if len(values) < 2:
        return None
    stats = {variant: mean_interval(v)[1:] for variant, v in values.items()}
    order = sorted(stats, key=lambda v: (not np.isfinite(stats[v][0]), stats[v][0]))
    styles = series_styles(list(values))
    fig, (ax,) = new_figure(1, width=COLUMN_WIDTH_IN, panel_height=0.9 + 0.22 * len(order))
    ax.grid(axis="y", visible=False)
    for row, variant in enumerate(order):
        mean, low, high = stats[variant]
        colour = styles[variant]["color"]
        if np.isfinite(low):
            ax.errorbar([mean], [row], xerr=[[mean - low], [high - mean]], fmt="o", color=colour, capsize=2)
        else:
            ax.plot([mean], [row], "o", color=colour)
        seeds = values[variant]
        ax.plot(seeds, np.full(len(seeds), row + 0.22), linestyle="none", marker="|", color=NEUTRAL, markersize=4)
    n_classes = chance_classes(run.scenario)
    if n_classes:
        ax.axvline(float(np.log(n_classes)), color=NEUTRAL, linewidth=0.8, linestyle=":")
        ax.annotate(f"chance, ln {n_classes}", (float(np.log(n_classes)), 0.98), xycoords=("data", "axes fraction"), ha="right", va="top", rotation=90, fontsize=6, color=NEUTRAL)
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set_xlabel("final loss of the last task" if width == 1 else f"final loss, mean of the last {width} tasks")
    n = max(len(v) for v in values.values())
    interval = "mean ± 95% t interval; ticks: each seed" if n > 1 else "1 seed (no interval)"
    ax.set_title(f"{run.scenario.get('name', run.path.name)}: variants compared, best first\n{counted(n, 'seed')}; {interval}")
    return fig
