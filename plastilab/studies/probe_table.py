"""A study's finished trials as one tidy table: one row per trial, series and probe step, with the
trial's axis values and seed, the step, and every statistic logged there; and each trial's final
values. Read from the trials' probe-step files (``probe_steps``), rebuilt from a run folder where
one is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plastilab.core.value_text import show_value
from plastilab.rundir import safe_files
from plastilab.studies import folder
from plastilab.studies.probe_steps import write_probe_steps
from plastilab.studies.study_file import StudyPlan


def load_probe_steps(study_dir: Path, study: StudyPlan, ledger: dict[str, dict]) -> dict[str, dict]:
    """Each finished trial's probe-step file, rebuilt from its run folder when missing."""
    found = {}
    for trial in study.trials:
        entry = ledger.get(trial.id, {})
        if entry.get("state") != "finished":
            continue
        path = study_dir / folder.CHECKPOINTS_DIR / f"{trial.id}.json"
        saved = safe_files.read_json(path)
        if saved is not None:
            found[trial.id] = saved
        else:
            run_dir = safe_files.inside(study_dir, entry.get("run_dir"))  # never a ledger path outside the study
            if run_dir is not None:
                found[trial.id] = write_probe_steps(path, trial.id, run_dir, study.config.analysis.target)
    return found


def build_table(study: StudyPlan, probe_steps: dict[str, dict]) -> tuple[list[str], list[dict[str, Any]], str | None]:
    axis_columns = axis_paths(study)
    rows, tags, targets = [], set(), set()
    for trial in study.trials:
        data = probe_steps.get(trial.id)
        if data is None:
            continue
        if data.get("target"):
            targets.add(data["target"])
        axes = {p: show_value(trial.overrides[p]) for p in axis_columns if p in trial.overrides}
        for series, per_series in data.get("series", {}).items():
            for at_step in per_series.get("checkpoints", []):  # the probe steps' on-disk key
                values = at_step["values"]
                tags.update(values)
                rows.append({"trial": trial.id, "series": series, "seed": trial.overrides.get("seed"), **axes, "step": at_step["step"], **values})
    target = study.config.analysis.target if study.config.analysis.target in targets else (sorted(targets)[0] if targets else None)
    columns = ["trial", "series", "seed", *axis_columns, "step", *sorted(tags)]
    return columns, rows, target


def axis_paths(study: StudyPlan) -> list[str]:
    if study.config.trials is not None:
        paths: list[str] = []
        for t in study.config.trials:
            paths.extend(p for p in t if p not in paths)
        return paths
    return list(study.config.axes)


def final_values(study: StudyPlan, probe_steps: dict[str, dict]) -> list[dict[str, Any]]:
    """One entry per finished trial and series: its overrides and every tag's final value."""
    out = []
    for trial in study.trials:
        data = probe_steps.get(trial.id)
        if data is None:
            continue
        for series, per_series in data.get("series", {}).items():
            final = dict(per_series.get("final", {}))
            last = per_series.get("checkpoints", [])  # the probe steps' on-disk key
            target = data.get("target")
            if last and target and last[-1]["values"].get(target) is not None:
                final[target] = last[-1]["values"][target]  # plasticity at the last probe step
            out.append({"trial": trial, "series": series, "final": final})
    return out
