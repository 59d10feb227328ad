"""Read a run folder back: the same events the run emitted, rebuilt from its files.

``JsonlTail`` follows a file that another process is still appending to (``plastilab watch``):
it keeps its byte offset and only consumes complete lines, so a half-written last line is read
on a later poll, never mis-parsed.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plastilab.core.events import Curve, Event, Histogram, Matrix, Scalars, TaskBoundary
from plastilab.rundir import layout
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir.state import state_from_status
from plastilab.rundir.summary import SummaryBuilder


class JsonlTail:
    """Yields the complete JSON lines appended to ``path`` since the last call."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        records = []
        for line in chunk[: end + 1].splitlines():
            try:
                records.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # a damaged line: skip it, keep the rest
        return records


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line of a JSONL file; a truncated last line is skipped."""
    return JsonlTail(path).read_new()


def read_json(path: str | Path) -> dict[str, Any] | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def is_scalar_record(r: Any) -> bool:
    """A metrics.jsonl line that keeps the contract: step, series, tag, and a number (or null)."""
    return (
        isinstance(r, dict)
        and isinstance(r.get("step"), int)
        and isinstance(r.get("series"), str)
        and isinstance(r.get("tag"), str)
        and (r.get("value") is None or isinstance(r.get("value"), (int, float)))
    )


def records_to_events(records: list[dict[str, Any]]) -> list[Event]:
    """metrics.jsonl lines -> Scalars (grouped by step and series) and TaskBoundary events.

    Lines that break the contract (a damaged or hand-edited file) are skipped.
    """
    events: list[Event] = []
    pending: Scalars | None = None
    for r in records:
        if not is_scalar_record(r):
            continue
        step, series, tag = r["step"], r["series"], r["tag"]
        if tag == "task/index":
            events.append(TaskBoundary(step=step, task=int(record_value(r)), series=series))
            continue
        if pending is None or pending.step != step or pending.series != series:
            pending = Scalars(step=step, series=series, values={}, wall_time=float(r.get("wall_time", 0.0)))
            events.append(pending)
        pending.values[tag] = record_value(r)
    return events


def load_array_event(run_dir: str | Path, record: dict[str, Any]) -> Event | None:
    """One arrays.jsonl line -> its Histogram / Matrix / Curve event (None if the file is gone)."""
    path = Path(run_dir) / record["file"]
    try:
        with np.load(path) as data:
            step, series, tag = int(record["step"]), record["series"], record["tag"]
            if record["kind"] == "histogram":
                return Histogram(step, series, tag, data["counts"], data["edges"])
            if record["kind"] == "matrix":
                labels = tuple(str(x) for x in data["labels"]) or None
                return Matrix(step, series, tag, data["values"], labels)
            return Curve(step, series, tag, data["x"], data["y"])
    except (FileNotFoundError, OSError, KeyError, ValueError):
        return None


def _table(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _summary(value: Any) -> dict[str, Any] | None:
    """summary.json if it has the shape the writer gives it, else None (rebuild from metrics)."""
    value = _table(value)
    if value is None:
        return None
    series = value.get("series", {})
    if not isinstance(series, dict) or not all(
        isinstance(s, dict) and isinstance(s.get("final", {}), dict) and isinstance(s.get("per_task", {}), dict)
        for s in series.values()
    ):
        return None
    return value


@dataclass
class RunFolder:
    """A run folder's small files, read once."""

    path: Path
    meta: dict[str, Any]
    status: dict[str, Any]
    summary: dict[str, Any] | None
    scenario: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        path = Path(path)
        try:
            scenario = tomllib.loads((path / layout.SCENARIO).read_text(encoding="utf-8"))
        except (FileNotFoundError, tomllib.TOMLDecodeError):
            scenario = {}
        return cls(
            path=path,
            meta=_table(read_json(path / layout.META)) or {},
            status=_table(read_json(path / layout.STATUS)) or {"state": "unknown"},
            summary=_summary(read_json(path / layout.SUMMARY)),
            scenario=scenario,
        )

    @property
    def state(self) -> str:
        """running, finished, failed, interrupted, abandoned or unknown: ``rundir.state`` decides."""
        return state_from_status(self.status)

    def summary_or_rebuilt(self) -> dict[str, Any]:
        """summary.json, or (a run still going, or a damaged file) the same rebuilt from metrics."""
        if self.summary is not None:
            return self.summary
        builder = SummaryBuilder()
        for r in read_jsonl(self.path / layout.METRICS):
            if is_scalar_record(r):
                builder.add(r["step"], r["series"], r["tag"], record_value(r))
        return builder.summary()

    def events(self) -> list[Event]:
        """Every scalar, task-boundary and array event the run wrote, in file order."""
        events = records_to_events(read_jsonl(self.path / layout.METRICS))
        for record in read_jsonl(self.path / layout.ARRAYS):
            if not isinstance(record, dict) or not {"step", "series", "tag", "kind", "file"} <= set(record):
                continue
            event = load_array_event(self.path, record)
            if event is not None:
                events.append(event)
        return events
