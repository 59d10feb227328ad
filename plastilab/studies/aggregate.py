"""A study's aggregate files, from its ledger and its trials' probe-step files.

* table.csv (and table.parquet where pyarrow is installed): one row per trial, series and
  probe step: the trial's axis values and seed, the step, and every statistic logged there.
* the analysis's own files (``studies.analyses``), e.g. correlations.csv (falsification: each
  statistic against the plasticity tag across all rows) or scaling.csv (scaling: plasticity at
  the last probe step and final task loss per x, over seeds).
* axes.csv (every study): per axis value, mean ± CI of each headline tag's final value.
* summary.json: the counts and all of the above.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from plastilab.analysis.rl_aggregate import study_summary
from plastilab.core.errors import ScenarioError
from plastilab.core.statistics import MEAN_INTERVAL_LABEL, correlations, mean_interval
from plastilab.core.value_text import show_value
from plastilab.rundir import safe_files
from plastilab.studies import folder
from plastilab.studies.analyses import analysis_for
from plastilab.studies.analyses.base import AnalysisInputs
from plastilab.studies.ledger import read_ledger
from plastilab.studies.probe_table import axis_paths, build_table, load_probe_steps
from plastilab.studies.study_file import StudyPlan, load_study_plan

# The final values compared per axis value, when a trial logs them.
HEADLINE_TAGS = (
    "probe/plasticity_loss",
    "probe/final_loss_scaled",
    "probe/final_loss",
    "task/final_loss",
    "task/final_accuracy",
    "train/loss",
    "td/loss",
    "episode/return",
)
# The task's own loss at the end, for the scaling curve: the first of these a trial logs.
FINAL_LOSS_TAGS = ("task/final_loss", "train/loss", "td/loss")
FIXED_COLUMNS = ("trial", "series", "seed", "step")


def numeric(value: Any) -> float:
    """An axis value as a number: a list counts as its largest element (the width of [w, w])."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return float(max(value))
    return math.nan


def correlation_rows(columns: list[str], rows: list[dict[str, Any]], target: str, n_boot: int) -> list[dict]:
    # Step 0 is the probe's own baseline (plasticity loss 0 by definition, every statistic at its
    # initial value): it would pair "nothing happened yet" with "nothing lost" and inflate any r.
    rows = [r for r in rows if r.get("step", 0) > 0]
    stat_columns = [c for c in columns if "/" in c and c != target and not c.startswith("probe/")]
    y = np.array([_num(r.get(target)) for r in rows], dtype=float)
    stats = {c: np.array([_num(r.get(c)) for r in rows], dtype=float) for c in stat_columns}
    return correlations(y, stats, n_boot=n_boot)


def last_probe_step_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each trial and series' row at its last probe step."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["trial"], row["series"])
        if key not in last or row["step"] > last[key]["step"]:
            last[key] = row
    return list(last.values())


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def scaling_rows(study: StudyPlan, finals: list[dict[str, Any]], target: str | None) -> list[dict[str, Any]]:
    x_path = study.config.analysis.x or (next(iter(study.config.axes), None))
    if x_path is None:
        return []
    groups: dict[float, list[dict]] = {}
    for entry in finals:
        x = numeric(entry["trial"].overrides.get(x_path))
        if math.isfinite(x):
            groups.setdefault(x, []).append(entry["final"])
    rows = []
    for x in sorted(groups):
        finals_at_x = groups[x]
        loss_tag = next((t for t in FINAL_LOSS_TAGS if any(f.get(t) is not None for f in finals_at_x)), None)
        n, pm, pl, ph = mean_interval([f.get(target) for f in finals_at_x]) if target else (0, math.nan, math.nan, math.nan)
        m, lm, ll, lh = mean_interval([f.get(loss_tag) for f in finals_at_x]) if loss_tag else (0, math.nan, math.nan, math.nan)
        rows.append({"x": x, "n": max(n, m), "plasticity_mean": pm, "plasticity_low": pl, "plasticity_high": ph,
                     "final_loss_tag": loss_tag, "final_loss_mean": lm, "final_loss_low": ll, "final_loss_high": lh})
    return rows


def axes_rows(study: StudyPlan, finals: list[dict[str, Any]], target: str | None) -> list[dict[str, Any]]:
    paths = axis_paths(study) + ["seed"]
    headline = [t for t in (target, *HEADLINE_TAGS) if t]
    headline = list(dict.fromkeys(t for t in headline if any(e["final"].get(t) is not None for e in finals)))
    rows = []
    for tag in headline:  # the whole study first: mean ± CI over every trial and series
        n, mean, low, high = mean_interval([e["final"].get(tag) for e in finals])
        if n:
            rows.append({"axis": "(all)", "value": "", "tag": tag, "n": n, "mean": mean, "low": low, "high": high})
    for path in paths:
        values: dict[str, list[dict]] = {}
        for entry in finals:
            if path in entry["trial"].overrides:
                values.setdefault(show_value(entry["trial"].overrides[path]), []).append(entry["final"])
        if path == "seed":
            continue  # seeds are what the intervals are taken over, not a factor to compare
        for value, group in values.items():
            for tag in headline:
                n, mean, low, high = mean_interval([f.get(tag) for f in group])
                if n:
                    rows.append({"axis": path, "value": value, "tag": tag, "n": n, "mean": mean, "low": low, "high": high})
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()})
    safe_files.write_new_in(tmp.parent, tmp.name, text.getvalue().encode("utf-8"))  # a link planted as the .tmp is replaced
    tmp.replace(path)


def write_parquet(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> bool:
    try:
        import pyarrow as pa  # deferred: pyarrow is an optional extra, and slow to import
        import pyarrow.parquet as pq  # deferred: as above
    except ImportError:
        return False
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    pq.write_table(table, path)
    return True


def aggregate_study(study_dir: str | Path) -> dict[str, Any]:
    """Write every aggregate file into ``study_dir``; return the summary. A file that cannot be
    written (a folder or a FIFO in its place, a full disk) is a one-line ``ScenarioError``."""
    study_dir = Path(study_dir)
    try:
        return _aggregate(study_dir)
    except OSError as exc:
        where = exc.filename or study_dir
        raise ScenarioError(f"{where}: cannot write the study's aggregate ({exc.strerror or exc}); remove what is in its place or free some space") from None


def _aggregate(study_dir: Path) -> dict[str, Any]:
    study = load_study_plan(study_dir / folder.STUDY_FILE)
    ledger = read_ledger(study_dir / folder.LEDGER)
    probe_steps = load_probe_steps(study_dir, study, ledger)
    columns, rows, target = build_table(study, probe_steps)
    write_csv(study_dir / folder.TABLE_CSV, columns, rows)
    parquet = write_parquet(study_dir / folder.TABLE_PARQUET, columns, rows) if rows else False
    inputs = AnalysisInputs(study, columns, rows, target, probe_steps)
    finals = inputs.finals
    counts: dict[str, int] = {}
    for trial in study.trials:
        state = ledger.get(trial.id, {}).get("state", "pending")
        counts[state] = counts.get(state, 0) + 1
    analysis = study.config.analysis
    summary: dict[str, Any] = {
        "study": study.name,
        "analysis": analysis.kind,
        "trials": len(study.trials),
        "counts": counts,
        "rows": len(rows),
        "target": target,
        "color_by": analysis.color_by,
        "interval": MEAN_INTERVAL_LABEL,
        "files": [folder.TABLE_CSV] + ([folder.TABLE_PARQUET] if parquet else []),
    }
    own = analysis_for(analysis.kind).summarise(inputs)
    for table in own.tables:
        write_csv(study_dir / table.file, table.columns, table.rows)
    summary.update(own.entries)
    summary["files"] += [table.file for table in own.tables]
    rl = study_summary(finals, reps=analysis.bootstrap)  # Atari studies: IQM across games (Agarwal et al. 2021)
    if rl is not None:
        summary["rl_aggregate"] = rl
    axes = axes_rows(study, finals, target)
    write_csv(study_dir / folder.AXES, ["axis", "value", "tag", "n", "mean", "low", "high"], axes)
    summary["axes"] = axes
    summary["files"].append(folder.AXES)
    text = json.dumps(_json_safe(summary), indent=2, allow_nan=False)
    safe_files.write_new_in(study_dir, folder.SUMMARY + ".tmp", text.encode("utf-8"))
    (study_dir / (folder.SUMMARY + ".tmp")).replace(study_dir / folder.SUMMARY)
    return summary


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
