"""One run folder as pandas: ``load_run`` (scalars, scenario, status) and ``load_arrays``.

The files are read by ``plastilab.rundir.reader``, the same code the report and the lab use, so a
damaged or half-written line is skipped here exactly as it is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plastilab.analysis.errors import AnalysisError, require
from plastilab.core.events import ArrayEvent, Curve, Histogram, Matrix
from plastilab.core.series_names import split_seeded_name
from plastilab.rundir import layout
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir.reader import RunFolder, is_scalar_record, load_array_event, read_jsonl

if TYPE_CHECKING:
    import pandas as pd

SCALAR_COLUMNS = ("step", "series", "tag", "value", "wall_time", "variant", "seed")
TASK_INDEX = "task/index"
FINAL_LOSS = "task/final_loss"
ARRAY_KINDS = {"histogram": Histogram, "matrix": Matrix, "curve": Curve}

# The analysis API's name for the one splitter of "<variant>/s<seed>" series names.
parse_series = split_seeded_name


@dataclass
class Run:
    """A run folder read back: its scalars as a tidy table and its small files as dicts."""

    path: Path
    scalars: pd.DataFrame  # one row per metrics.jsonl line: SCALAR_COLUMNS
    scenario: dict[str, Any]  # the resolved scenario.toml
    status: dict[str, Any]
    summary: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.status.get("state", "unknown"))

    @property
    def series(self) -> list[str]:
        return list(dict.fromkeys(self.scalars["series"]))

    def tag(self, tag: str) -> pd.DataFrame:
        """The rows of one tag, in file order."""
        return self.scalars[self.scalars["tag"] == tag].reset_index(drop=True)

    def task_boundaries(self) -> list[int]:
        """The steps at which a new task started (task 0 included), across all series."""
        rows = self.tag(TASK_INDEX)
        return sorted(set(int(s) for s in rows["step"]))

    def per_task(self, tag: str = FINAL_LOSS) -> pd.DataFrame:
        """One row per series and task: series, variant, seed, task (from 1), step, value.

        ``task/*`` tags are logged once at each task's last step, so their n-th value in a series
        belongs to its n-th task.
        """
        rows = self.tag(tag).copy()
        rows["task"] = rows.groupby("series", sort=False).cumcount() + 1
        return rows[["series", "variant", "seed", "task", "step", "value"]]

    def arrays(self, kind: str | None = None, tag: str | None = None) -> list[ArrayEvent]:
        return load_arrays(self.path, kind=kind, tag=tag)


def load_run(path: str | Path) -> Run:
    """Read a run folder: ``run.scalars`` is a DataFrame with one row per scalar.

    Columns: step, series, tag, value (NaN/inf restored from the file's flag), wall_time, and the
    variant and seed parsed from the series name (seed is <NA> for a run of one seed).
    """
    path = Path(path)
    if not layout.is_run_dir(path):
        raise AnalysisError(f"{path}: not a run folder (no status.json or metrics.jsonl)")
    folder = RunFolder.open(path)
    return Run(
        path=path,
        scalars=scalars_frame(read_jsonl(path / layout.METRICS)),
        scenario=folder.scenario,
        status=folder.status,
        summary=folder.summary_or_rebuilt(),
        meta=folder.meta,
    )


def scalars_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """metrics.jsonl lines -> the tidy table; lines that break the contract are skipped."""
    pd = require("pandas", "analysis", "loading a run into pandas")
    rows = []
    for r in records:
        if not is_scalar_record(r):
            continue
        variant, seed = parse_series(r["series"])
        rows.append((r["step"], r["series"], r["tag"], record_value(r), float(r.get("wall_time", float("nan"))), variant, seed))
    frame = pd.DataFrame(rows, columns=list(SCALAR_COLUMNS))
    return frame.astype({"step": "int64", "value": "float64", "wall_time": "float64", "seed": "Int64"})


def load_arrays(path: str | Path, kind: str | None = None, tag: str | None = None) -> list[ArrayEvent]:
    """The histogram / matrix / curve events of a run folder, in file order.

    ``kind`` ("histogram", "matrix", "curve") and ``tag`` (e.g. "hessian/density") filter them.
    Each event carries step, series, tag and its arrays (counts/edges, values/labels, x/y).
    """
    path = Path(path)
    if kind is not None and kind not in ARRAY_KINDS:
        raise AnalysisError(f"load_arrays: kind {kind!r} unknown; allowed: {', '.join(ARRAY_KINDS)}")
    events: list[ArrayEvent] = []
    for record in read_jsonl(path / layout.ARRAYS):
        if not isinstance(record, dict) or not {"step", "series", "tag", "kind", "file"} <= set(record):
            continue
        if (kind is not None and record["kind"] != kind) or (tag is not None and record["tag"] != tag):
            continue
        event = load_array_event(path, record)
        if event is not None:
            events.append(event)
    return events
