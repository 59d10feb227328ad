"""A study folder as pandas: ``load_study`` gives one row per trial with the axes as columns.

A study folder (``plastilab.studies``) holds ``study.toml``, ``trials.jsonl`` (the ledger: one
JSON line per change of a trial's state -- trial, overrides, state, run_dir relative to the
study folder, started/ended/seconds, error -- the last line winning), one ordinary run folder per
trial, and the study's aggregate CSV files (``table.csv``, ``correlations.csv``, ...). The ledger is read defensively: a damaged line is skipped, a trial whose
ledger line has no state takes it from its run folder's status.json.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plastilab.analysis.errors import AnalysisError, require
from plastilab.analysis.runs import Run, load_run
from plastilab.rundir import layout, safe_files
from plastilab.rundir.reader import RunFolder, read_jsonl

if TYPE_CHECKING:
    import pandas as pd

LEDGER = "trials.jsonl"
STUDY_FILE = "study.toml"  # the study as resolved, when the studies package wrote it
CORRELATIONS = "correlations.csv"
TRIAL_COLUMNS = ("trial", "state", "run_dir", "error")

# The ledger's field names; the first listed is the one the studies package writes.
_ID_KEYS = ("trial", "trial_id", "id", "name")
_OVERRIDE_KEYS = ("overrides", "axes", "params")
_RUN_KEYS = ("run_dir", "run", "run_folder", "path")
_STATE_KEYS = ("state", "status")
_TIMING_KEYS = ("started", "ended", "finished", "seconds", "cpu_seconds", "host")


def is_study_dir(path: str | Path) -> bool:
    return (Path(path) / LEDGER).is_file()


@dataclass
class Study:
    """A study folder read back: ``trials`` (one row per trial) and its axes' names."""

    path: Path
    trials: pd.DataFrame  # trial, state, run_dir, error, one column per axis, timings
    axes: list[str]  # dotted scenario keys the study varies, in ledger order
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # the study's aggregate CSVs by stem
    study_file: dict[str, Any] = field(default_factory=dict)  # study.toml, resolved

    @property
    def correlations(self) -> pd.DataFrame | None:
        return self.tables.get(CORRELATIONS.removesuffix(".csv"))

    def runs(self) -> dict[str, Run]:
        """Every trial whose run folder exists, loaded, by trial id."""
        loaded = {}
        for trial, run_dir in zip(self.trials["trial"], self.trials["run_dir"]):
            if isinstance(run_dir, str) and layout.is_run_dir(Path(run_dir)):
                loaded[trial] = load_run(run_dir)
        return loaded

    def scalars(self) -> pd.DataFrame:
        """Every trial's scalars in one tidy table, with ``trial`` and the axes as columns.

        A ``seed`` axis fills the ``seed`` column of trials that ran one seed (whose series names
        carry none).
        """
        pd = require("pandas", "analysis", "loading a study into pandas")
        frames = []
        axes = self.trials.set_index("trial")[self.axes]
        for trial, run in self.runs().items():
            frame = run.scalars.copy()
            frame.insert(0, "trial", trial)
            for axis in self.axes:
                value = axes.at[trial, axis]
                if axis in frame.columns:  # "seed": a series' own seed wins; a one-seed trial takes the axis
                    frame[axis] = frame[axis].fillna(value) if value is not None else frame[axis]
                else:
                    frame[axis] = [value] * len(frame)  # a list does not broadcast: a tuple cell would
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["trial", *self.axes])
        return pd.concat(frames, ignore_index=True)


def load_study(path: str | Path) -> Study:
    """Read a study folder: ``study.trials`` has one row per trial and one column per axis."""
    pd = require("pandas", "analysis", "loading a study into pandas")
    path = Path(path)
    if not is_study_dir(path):
        raise AnalysisError(f"{path}: not a study folder (no {LEDGER})")
    trials = ledger_trials(path / LEDGER)
    axes = list(dict.fromkeys(key for t in trials for key in t["overrides"]))
    rows = []
    for t in trials:
        row: dict[str, Any] = {"trial": t["trial"], "state": t["state"], "run_dir": t["run_dir"], "error": t["error"]}
        row.update({axis: _cell(t["overrides"].get(axis)) for axis in axes})
        row.update(t["timings"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*TRIAL_COLUMNS, *axes, *(k for r in rows for k in r)])))
    tables = {}
    for csv in sorted(path.glob("*.csv")):
        try:
            tables[csv.stem] = pd.read_csv(csv)
        except (ValueError, OSError):
            continue  # an aggregate being written, or damaged: the trials still load
    return Study(path=path, trials=frame, axes=axes, tables=tables, study_file=_read_toml(path / STUDY_FILE))


def _read_toml(path: Path) -> dict[str, Any]:
    text = safe_files.read_text(path, 1 << 20)
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        return {}


def ledger_trials(ledger: Path) -> list[dict[str, Any]]:
    """The ledger's trials in first-seen order, each line merged over the trial's earlier ones."""
    merged: dict[str, dict[str, Any]] = {}
    for index, line in enumerate(read_jsonl(ledger)):
        if not isinstance(line, dict):
            continue
        trial = _first(line, _ID_KEYS)
        trial = str(trial) if trial is not None else f"trial-{index}"
        merged.setdefault(trial, {}).update(line)
    study_dir = ledger.parent
    return [_normalise(trial, line, study_dir) for trial, line in merged.items()]


def _normalise(trial: str, line: dict[str, Any], study_dir: Path) -> dict[str, Any]:
    overrides = _first(line, _OVERRIDE_KEYS)
    overrides = overrides if isinstance(overrides, dict) else {}
    run = _first(line, _RUN_KEYS)
    # Only a folder inside the study, reached without a link: a ledger naming /etc or ../other
    # is not followed out of the study folder.
    inside = safe_files.inside(study_dir, run)
    run_dir = str(inside) if inside is not None else None
    state = _first(line, _STATE_KEYS)
    if not isinstance(state, str):
        state = RunFolder.open(run_dir).state if run_dir and layout.is_run_dir(Path(run_dir)) else "unknown"
    timings = line.get("timings") if isinstance(line.get("timings"), dict) else {k: line[k] for k in _TIMING_KEYS if k in line}
    error = line.get("error")
    return {
        "trial": trial,
        "overrides": {str(k): v for k, v in overrides.items()},
        "run_dir": run_dir,
        "state": state,
        "error": error if isinstance(error, str) else None,
        "timings": {str(k): v for k, v in timings.items() if isinstance(v, (int, float, str))},
    }


def _first(line: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in line and line[key] is not None:
            return line[key]
    return None


def _cell(value: Any) -> Any:
    """An axis value as one table cell: a list (``model.hidden = [64, 64]``) becomes a tuple."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
