"""The rows and numbers a study's figures draw: its agents at their probe steps, its statistics with
r and an interval, its scaling points, the axis that colours its points.

Each comes from the study's aggregate files when it wrote them (the numbers ``plastilab report``
prints), else from its trials' run folders, with the interval named for what it is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastilab.analysis.errors import require
from plastilab.analysis.studies import Study
from plastilab.core.statistics import mean_interval, pearson_fisher_interval
from plastilab.core.value_text import show_value
from plastilab.rundir import safe_files

PLASTICITY_LOSS = "probe/plasticity_loss"
# The outcome itself and per-task bookkeeping: what the statistics are held against, not one.
NOT_STATISTICS = ("probe/", "task/", "train/", "td/", "episode/")
BOOTSTRAP = "percentile bootstrap 95% interval (the study's correlations.csv)"
FISHER = "Fisher-z 95% interval"


def study_target(study: Study) -> str:
    """The plasticity tag the study analysed (its summary's), else its analysis target."""
    summary = safe_files.read_json(study.path / "summary.json")
    target = summary.get("target") if isinstance(summary, dict) else None
    return target or study.study_file.get("analysis", {}).get("target") or PLASTICITY_LOSS


def probe_step_rows(study: Study, target: str, after_start: bool = True) -> Any | None:
    """One row per agent (trial, series) and probe step where ``target`` is finite: the axes (as
    text), the step and every tag logged there. Step 0, the probe's own baseline (zero by
    definition), is left out unless ``after_start`` is False, as the study's r leaves it out."""
    rows = study.tables.get("table")
    if rows is None or target not in rows.columns:
        rows = _rows_from_runs(study, target)
        if rows is None:
            return None
    rows = rows[np.isfinite(rows[target].astype(float))]
    if after_start:
        rows = rows[rows["step"] > 0]
    return rows.reset_index(drop=True)


def _rows_from_runs(study: Study, target: str) -> Any | None:
    scalars = study.scalars()
    if scalars.empty or target not in set(scalars["tag"]):
        return None
    wide = scalars.pivot_table(index=["trial", "series", "step"], columns="tag", values="value", aggfunc="last").reset_index()
    wide = wide[wide[target].notna()].reset_index(drop=True)
    axes = study.trials.set_index("trial")[study.axes]
    for axis in study.axes:
        wide[axis] = wide["trial"].map(lambda t, a=axis: show_value(list(v)) if isinstance(v := axes.at[t, a], tuple) else show_value(v))
    return wide


def agent_count(rows: Any) -> int:
    return int(rows[["trial", "series"]].drop_duplicates().shape[0])


def is_statistic(tag: Any, target: str) -> bool:
    return isinstance(tag, str) and "/" in tag and tag != target and not tag.startswith(NOT_STATISTICS)


def statistics_of(study: Study, rows: Any, target: str) -> tuple[list[tuple[str, float, float, float, int]], str]:
    """(tag, r, low, high, n) per statistic, and how the interval was made. Whole-network
    statistics (``weights/norm``) come before their per-layer parts (``weights/norm/fc1``), as in
    the paper's grid; within each, the strongest |r| first."""
    table = study.correlations
    if table is not None and {"statistic", "pearson", "pearson_low", "pearson_high", "n"} <= set(table.columns):
        found = [
            (str(t), float(r), float(lo), float(hi), int(n))
            for t, r, lo, hi, n in zip(table["statistic"], table["pearson"], table["pearson_low"], table["pearson_high"], table["n"])
            if is_statistic(t, target) and t in rows.columns and np.isfinite(float(r))
        ]
        if found:
            return sorted(found, key=_panel_order), BOOTSTRAP
    found = []
    for tag in rows.columns:
        if not is_statistic(tag, target):
            continue
        pairs = rows[[tag, target]].astype(float).to_numpy()
        pairs = pairs[np.isfinite(pairs).all(axis=1)]
        r, low, high = pearson_fisher_interval(pairs[:, 0], pairs[:, 1])
        if math.isfinite(r):
            found.append((tag, r, low, high, len(pairs)))
    return sorted(found, key=_panel_order), FISHER


def _panel_order(stat: tuple[str, float, float, float, int]) -> tuple[bool, float]:
    return stat[0].count("/") > 1, -abs(stat[1])


def colour_axis(study: Study, rows: Any) -> str | None:
    """The study's ``color_by`` when its rows carry it, else the first axis that varies, else seed."""
    wanted = study.study_file.get("analysis", {}).get("color_by")
    candidates = [wanted, *study.axes, "seed"]
    for axis in candidates:
        if isinstance(axis, str) and axis in rows.columns and rows[axis].astype(str).nunique() > 1:
            return axis
    return None


def scaling_table(study: Study, axis: str, target: str) -> Any | None:
    """``scaling.csv``, else the same columns for the plasticity tag from the run folders."""
    table = study.tables.get("scaling")
    if table is not None and not table.empty and "x" in table.columns:
        return table
    rows = probe_step_rows(study, target, after_start=False)
    if rows is None or rows.empty:
        return None
    pd = require("pandas", "analysis", "a study's scaling table")  # deferred: pandas is an optional extra
    widths = study.trials.set_index("trial")[axis].map(lambda v: float(max(v)) if isinstance(v, tuple) else float(v))
    last = rows.sort_values("step").groupby(["trial", "series"]).last().reset_index()
    out = []
    for width, group in last.groupby(last["trial"].map(widths)):
        n, mean, low, high = mean_interval(group[target].astype(float))
        out.append({"x": width, "n": n, "plasticity_mean": mean, "plasticity_low": low, "plasticity_high": high})
    return pd.DataFrame(out)
