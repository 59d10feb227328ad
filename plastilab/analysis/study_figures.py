"""A study's population figures, for any study folder (n trials, any axes): the falsification grid
(the paper's Fig. 3), the width-scaling curve (§5.1) and the comparison of each axis's values.

They read the study's own aggregate files where it wrote them (``table.csv``: every agent at
every probe step; ``correlations.csv``: r with its bootstrap interval; ``scaling.csv``,
``axes.csv``: mean ± 95% t interval), so a figure shows the numbers ``plastilab report`` prints;
a study without them (an older or unfinished one) is drawn from its trials' run folders, with the
interval computed here and named in the title. Every title says how many agents it draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastilab.analysis.figure_style import counted, new_figure, page_width, series_styles
from plastilab.analysis.studies import Study
from plastilab.analysis.study_tables import (
    agent_count,
    probe_step_rows,
    colour_axis,
    scaling_table,
    statistics_of,
    study_target,
)

MAX_PANELS = 12
# The task's own outcome at the end, the first of these a study's axes.csv has.
TASK_OUTCOMES = ("task/final_loss", "train/loss", "td/loss", "episode/return", "task/final_accuracy")


def falsification_grid(study: Study) -> Any | None:
    """Each statistic against plasticity loss at every probe step (after step 0) of every agent,
    coloured by the study's ``color_by`` axis; r and its 95% interval over each panel."""
    target = study_target(study)
    rows = probe_step_rows(study, target)
    if rows is None or rows.empty:
        return None
    stats, method = statistics_of(study, rows, target)
    stats = stats[:MAX_PANELS]
    if not stats:
        return None
    axis = colour_axis(study, rows)
    groups = {str(k): g for k, g in rows.groupby(rows[axis].astype(str), sort=True)} if axis else {"all agents": rows}
    styles = series_styles(list(groups))
    ncols = min(len(stats), 4)
    fig, axes = new_figure(len(stats), ncols=ncols, width=max(page_width(1), page_width(2) * ncols / 4), panel_height=1.9)
    size = 10 if len(rows) < 200 else 4
    for ax, (tag, r, low, high, n) in zip(axes, stats):
        for label, group in groups.items():
            ax.scatter(group[tag], group[target], s=size, alpha=0.7, linewidths=0, color=styles[label]["color"], label=label)
        interval = f" [{low:+.2f}, {high:+.2f}]" if math.isfinite(low) and math.isfinite(high) else ""
        ax.set_title(f"{tag}\nr = {r:+.2f}{interval}, n = {n}", fontsize=7)
    for ax in axes[::ncols]:
        ax.set_ylabel(target)
    if axis is not None:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(len(groups), 6), title=f"colour: {axis}")
    n_probe_steps = rows["step"].nunique()
    fig.suptitle(
        f"Falsification: each statistic against {target}, {counted(agent_count(rows), 'agent')} "
        f"({counted(rows['trial'].nunique(), 'trial')}) × {counted(n_probe_steps, 'checkpoint')} after step 0\n"
        f"r: Pearson, with its {method}",
        fontsize=8,
    )
    return fig


def width_axis(study: Study) -> str | None:
    """The scaling study's ``x``, else an axis that sets a width (``hidden``/``width``) with several values."""
    # Read from the study file as data: analysis/ sits below studies/ and does not ask its analyses.
    analysis = study.study_file.get("analysis", {})
    if analysis.get("kind") == "scaling" and analysis.get("x") in study.axes:
        return analysis["x"]
    for axis in study.axes:
        leaf = axis.rsplit(".", 1)[-1]
        if ("hidden" in leaf or "width" in leaf) and study.trials[axis].astype(str).nunique() > 1:
            return axis
    return None


def _width_of(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        return float(max(value)) if value else float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def scaling_curve(study: Study) -> Any | None:
    """Plasticity loss (last probe step) and the task's own final loss against width, mean ± 95% t
    interval over each width's agents (``scaling.csv``), each agent a grey dot."""
    axis = width_axis(study)
    target = study_target(study)
    table = scaling_table(study, axis, target) if axis is not None else None
    if table is None or table.empty:
        return None
    rows = probe_step_rows(study, target, after_start=False)
    widths = study.trials.set_index("trial")[axis].map(_width_of)
    panels = [("plasticity", f"{target} (last checkpoint)")]
    tag = next((t for t in table["final_loss_tag"] if isinstance(t, str)), None) if "final_loss_tag" in table.columns else None
    if tag:
        panels.append(("final_loss", f"{tag} (last value)"))
    fig, axes = new_figure(len(panels), width=page_width(len(panels)), panel_height=2.2)
    colour = series_styles(["x"])["x"]["color"]
    for ax, (column, label) in zip(axes, panels):
        ok = table[np.isfinite(table[f"{column}_mean"].astype(float))]
        x, mean = ok["x"].astype(float).to_numpy(), ok[f"{column}_mean"].astype(float).to_numpy()
        low, high = ok[f"{column}_low"].astype(float).to_numpy(), ok[f"{column}_high"].astype(float).to_numpy()
        err = np.nan_to_num(np.stack([mean - low, high - mean]), nan=0.0)
        ax.errorbar(x, mean, yerr=err, marker="o", capsize=2, color=colour)
        if column == "plasticity" and rows is not None and not rows.empty:
            last = rows.sort_values("step").groupby(["trial", "series"]).last().reset_index()
            ax.scatter(last["trial"].map(widths), last[target], s=6, alpha=0.4, color="#555555", linewidths=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{w:g}" for w in x])
        ax.minorticks_off()
        ax.set_xlabel(f"width ({axis})")
        ax.set_ylabel(label)
    counts = sorted({int(n) for n in table["n"] if np.isfinite(float(n))})
    n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    fig.suptitle(f"Scaling with width: {counted(int(table['n'].sum()), 'agent')} ({n} a width)\nmean ± 95% t interval; dots: each agent", fontsize=8)
    return fig


def axis_comparison(study: Study) -> Any | None:
    """Each axis's values side by side on the study's headline tags (``axes.csv``): the plasticity
    tag and the task's own outcome at the end, mean ± 95% t interval over the agents of each value."""
    table = study.tables.get("axes")
    if table is None or table.empty or not {"axis", "value", "tag", "n", "mean", "low", "high"} <= set(table.columns):
        return None
    table = table[table["axis"] != "(all)"]
    axes_shown = [a for a, rows in table.groupby("axis", sort=False) if rows["value"].nunique() > 1]
    tags = list(dict.fromkeys(table["tag"]))
    outcome = next((t for t in TASK_OUTCOMES if t in tags), None)
    headline = [t for t in dict.fromkeys([study_target(study), outcome]) if t in tags] or tags[:1]
    panels = [(a, t) for t in headline for a in axes_shown if not table[(table["axis"] == a) & (table["tag"] == t)].empty]
    if not panels:
        return None
    ncols = min(len(axes_shown), 3)
    fig, axes = new_figure(len(panels), ncols=ncols, width=page_width(len(panels)), panel_height=1.4 + 0.12 * table["value"].nunique())
    for ax, (axis, tag) in zip(axes, panels):
        rows = table[(table["axis"] == axis) & (table["tag"] == tag)].reset_index(drop=True)
        rows = rows.iloc[_value_order(rows["value"])].reset_index(drop=True)
        styles = series_styles([str(v) for v in rows["value"]])
        for i, row in rows.iterrows():
            mean, low, high = float(row["mean"]), float(row["low"]), float(row["high"])
            err = [[mean - low], [high - mean]] if math.isfinite(low) else None
            ax.errorbar([mean], [i], xerr=err, fmt="o", capsize=2, color=styles[str(row["value"])]["color"])
        ax.set_yticks(range(len(rows)), [f"{v} (n={int(n)})" for v, n in zip(rows["value"], rows["n"])])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_title(axis, fontsize=7)
        ax.set_xlabel(f"{tag} (final)")
    n_agents = int(table[table["tag"] == headline[0]].groupby("axis")["n"].sum().max())
    fig.suptitle(f"{study.study_file.get('name', study.path.name)}: each axis value compared, {counted(n_agents, 'agent')}\nmean ± 95% t interval over the agents with that value", fontsize=8)
    return fig


def _value_order(values: Any) -> list[int]:
    """Numbers (and lists of numbers, by their largest) in numeric order, the rest as they came."""
    def key(item: tuple[int, Any]) -> tuple[int, float, int]:
        text = str(item[1]).strip("[]")
        try:
            return (0, max(float(v) for v in text.split(",")), item[0])
        except ValueError:
            return (1, 0.0, item[0])

    return [i for i, _ in sorted(enumerate(values), key=key)]


STUDY_FIGURES = {
    "falsification_scatter": falsification_grid,
    "scaling_curve": scaling_curve,
    "axis_comparison": axis_comparison,
}
