"""A study's population figures: the falsification scatter grid (paper §3.2) and the width
scaling curve (§5.1).

Both are drawn from the trials' own run folders (every checkpoint where the probe measured a
plasticity loss, with the statistics logged at that step), so they need nothing but the ledger
and the runs. When the study wrote ``correlations.csv``, its order of statistics is used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastilab.analysis.figure_style import COLUMN_WIDTH_IN, PAGE_WIDTH_IN, new_figure, series_styles
from plastilab.analysis.runs import FINAL_LOSS
from plastilab.analysis.studies import Study

PLASTICITY_LOSS = "probe/plasticity_loss"
# The task's own loss at the end, the first of these a trial logs (as plastilab.studies picks it).
FINAL_LOSS_TAGS = (FINAL_LOSS, "train/loss", "td/loss")
MAX_PANELS = 12
MIN_POINTS = 3
_NOT_STATISTICS = ("probe/", "task/", "train/", "episode/")  # the outcome itself, or per-task bookkeeping


def checkpoint_table(scalars: Any) -> Any:
    """One row per trial, series and probe checkpoint; one column per tag logged at that step."""
    if scalars.empty or PLASTICITY_LOSS not in set(scalars["tag"]):
        return scalars.iloc[0:0]
    keys = ["trial", "series", "step"]
    wide = scalars.pivot_table(index=keys, columns="tag", values="value", aggfunc="last").reset_index()
    return wide[wide[PLASTICITY_LOSS].notna()].reset_index(drop=True)


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < MIN_POINTS or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _statistics(table: Any, study: Study) -> list[tuple[str, float, int]]:
    """(tag, r, n) for every statistic with enough points, in correlations.csv's order or by |r|."""
    found = []
    for tag in table.columns:
        if not isinstance(tag, str) or "/" not in tag or tag.startswith(_NOT_STATISTICS):
            continue
        pairs = table[[tag, PLASTICITY_LOSS]].dropna()
        pairs = pairs[np.isfinite(pairs.to_numpy()).all(axis=1)]
        r = pearson_r(pairs[tag].to_numpy(), pairs[PLASTICITY_LOSS].to_numpy())
        if not math.isnan(r):
            found.append((tag, r, len(pairs)))
    order = _study_order(study)
    rank = {tag: i for i, tag in enumerate(order)}
    found.sort(key=lambda item: (rank.get(item[0], len(rank)), -abs(item[1])))
    return found[:MAX_PANELS]


def _study_order(study: Study) -> list[str]:
    """The statistics as correlations.csv lists them (it is sorted by |r|), if it names them."""
    table = study.correlations
    if table is None:
        return []
    for column in ("statistic", "tag", "name", "x"):
        if column in table.columns:
            return [str(v) for v in table[column]]
    return []


def falsification_grid(study: Study, scalars: Any) -> Any | None:
    """Each statistic against the plasticity loss at every checkpoint of every trial, with r."""
    table = checkpoint_table(scalars)
    stats = _statistics(table, study) if not table.empty else []
    if not stats:
        return None
    colour_axis = next((a for a in study.axes if study.trials[a].astype(str).nunique() > 1), None)
    groups = _groups(table, study, colour_axis)
    styles = series_styles([str(g) for g in groups])
    ncols = min(len(stats), 4)
    fig, axes = new_figure(len(stats), ncols=ncols, width=max(COLUMN_WIDTH_IN, PAGE_WIDTH_IN * ncols / 4), panel_height=1.8)
    for ax, (tag, r, n) in zip(axes, stats):
        for group, rows in groups.items():
            ax.scatter(rows[tag], rows[PLASTICITY_LOSS], s=8, alpha=0.75, linewidths=0, color=styles[str(group)]["color"], label=str(group))
        ax.set_title(tag)
        ax.text(0.03, 0.95, f"r = {r:+.2f}  (n = {n})", transform=ax.transAxes, va="top", fontsize=7)
    for ax in axes[::ncols]:
        ax.set_ylabel("plasticity loss")
    if colour_axis is not None:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(len(groups), 6), title=colour_axis)
    fig.suptitle("Falsification: each statistic against plasticity loss\nat every checkpoint of every trial (Pearson r)", fontsize=8)
    return fig


def _groups(table: Any, study: Study, axis: str | None) -> dict[Any, Any]:
    if axis is None:
        return {"all trials": table}
    values = study.trials.set_index("trial")[axis].astype(str)
    return {value: rows for value, rows in table.groupby(table["trial"].map(values), sort=False)}


def width_axis(study: Study) -> str | None:
    """The axis that sets the network's width: a ``hidden`` or ``width`` key with several values."""
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


# Student's t, 97.5% quantile, by degrees of freedom: a 95% interval from 2 or 3 seeds is wide.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131)


def t_975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def scaling_curve(study: Study, scalars: Any) -> Any | None:
    """Plasticity loss and the task's own final loss against width: mean ± 95% t interval."""
    axis = width_axis(study)
    if axis is None or scalars.empty:
        return None
    widths = study.trials.set_index("trial")[axis].map(_width_of)
    tags = set(scalars["tag"])
    final_tag = next((t for t in FINAL_LOSS_TAGS if t in tags), FINAL_LOSS)
    panels = []
    for tag, label in ((PLASTICITY_LOSS, "plasticity loss (last checkpoint)"), (final_tag, f"{final_tag} (last value)")):
        last = scalars[scalars["tag"] == tag].groupby(["trial", "series"])["value"].last().groupby("trial").mean()
        if not last.empty:
            panels.append((label, last))
    if not panels:
        return None
    fig, axes = new_figure(len(panels), width=PAGE_WIDTH_IN if len(panels) > 1 else COLUMN_WIDTH_IN, panel_height=2.2)
    for ax, (label, per_trial) in zip(axes, panels):
        frame = per_trial.to_frame("value").assign(width=per_trial.index.map(widths)).dropna()
        stats = frame.groupby("width")["value"].agg(["mean", "std", "count"])
        ci = [t_975(int(n) - 1) * sd / math.sqrt(n) if n > 1 else 0.0 for sd, n in zip(stats["std"], stats["count"])]
        ax.errorbar(stats.index, stats["mean"], yerr=ci, marker="o", capsize=2, color=series_styles(["w"])["w"]["color"])
        ax.scatter(frame["width"], frame["value"], s=6, alpha=0.4, color="#555555", linewidths=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(stats.index, [f"{w:g}" for w in stats.index])
        ax.minorticks_off()
        ax.set_xlabel(f"width ({axis})")
        ax.set_ylabel(label)
    counts = sorted({int(c) for c in stats["count"]})
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    fig.suptitle(f"Scaling with width\nmean ± 95% t interval over the trials of each width ({n} a width)", fontsize=8)
    return fig


STUDY_FIGURES = {
    "falsification_scatter": falsification_grid,
    "scaling_curve": scaling_curve,
}
