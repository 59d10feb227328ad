"""Read a run folder back: the same events the run emitted, rebuilt from its files.

``JsonlTail`` follows a file that another process is still appending to (``plastilab watch``):
it keeps its byte offset and only consumes complete lines, so a half-written last line is read
on a later poll, never mis-parsed. It reads in bounded chunks, skips and counts lines that are
not JSON objects (or fail a given check), and never blocks or follows a file that is not a
regular file (see ``safe_files``). The small files (meta, summary) come back with the shapes
their readers rely on, or not at all, and their text made printable; status.json is read, and a
run's state decided, by ``rundir.state`` alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from plastilab.core.errors import ScenarioError
from plastilab.core.events import Event
from plastilab.core.safe_text import shown
from plastilab.core.scenario_toml import read_scenario_toml
from plastilab.rundir import layout
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir.records import (  # noqa: F401 - part of the reader's interface
    is_array_record,
    is_scalar_record,
    load_array_event,
    records_to_events,
)
from plastilab.rundir.safe_files import open_regular
from plastilab.rundir.small_json import printable, read_json, whole_number
from plastilab.rundir.state import read_status, state_from_status
from plastilab.rundir.summary import SummaryBuilder

CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 1 << 20  # a metrics line is ~100 bytes; a longer one is damage, skipped


class JsonlTail:
    """Yields the complete JSON lines appended to ``path`` since the last call.

    ``skipped`` counts the lines left out so far: not JSON, not an object, longer than
    ``MAX_LINE_BYTES``, or failing ``check`` when one is given.
    """

    def __init__(self, path: str | Path, check: Callable[[Any], bool] | None = None) -> None:
        self.path = Path(path)
        self.check = check
        self.offset = 0
        self.skipped = 0
        self._in_long_line = False  # inside an overlong line: drop bytes up to its newline

    def read_new(self) -> list[dict[str, Any]]:
        return list(self.iter_new())

    def iter_new(self) -> Iterator[dict[str, Any]]:
        """The new complete lines, parsed, one at a time (memory: one chunk, whatever the file)."""
        f = open_regular(self.path)
        if f is None:
            return
        with f:
            f.seek(self.offset)
            rest = b""
            while True:
                try:
                    chunk = f.read(CHUNK_BYTES)
                except OSError:
                    return
                if not chunk:
                    return
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()  # the unfinished line (b"" after a newline)
                for line in lines:
                    self.offset += len(line) + 1
                    if self._in_long_line:
                        self._in_long_line = False  # the end of a line already counted
                        continue
                    record = self._parse(line)
                    if record is not None:
                        yield record
                if len(rest) > MAX_LINE_BYTES:
                    self.offset += len(rest)
                    rest = b""
                    if not self._in_long_line:
                        self.skipped += 1
                        self._in_long_line = True

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        if len(line) > MAX_LINE_BYTES:
            self.skipped += 1
            return None
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, an int of 5,000 digits
            self.skipped += 1
            return None
        if not isinstance(record, dict) or (self.check is not None and not self.check(record)):
            self.skipped += 1
            return None
        return record


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line of a JSONL file that is a JSON object; a truncated last line is skipped."""
    return JsonlTail(path).read_new()


def read_meta(path: str | Path) -> dict[str, Any] | None:
    """meta.json with the shapes its readers use (names printable, counts ints, series a list
    of names). None if unreadable."""
    meta = read_json(path)
    if meta is None:
        return None
    for key in ("scenario", "kind", "device", "started"):
        if key in meta:
            meta[key] = printable(meta[key], "?", 80)
    series = meta.get("series")
    meta["series"] = [shown(s, 200) for s in series if isinstance(s, str) and s] if isinstance(series, list) else []
    meta["total_steps"] = whole_number(meta.get("total_steps"))
    if "seed" in meta:
        meta["seed"] = whole_number(meta["seed"])
    return meta


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= 1.7e308)


def _summary(value: Any) -> dict[str, Any] | None:
    """summary.json if it has the shape the writer gives it, else None (rebuild from metrics)."""
    if not isinstance(value, dict):
        return None
    series = value.get("series", {})
    if not isinstance(series, dict):
        return None
    for name, s in series.items():
        if not (isinstance(s, dict) and isinstance(s.get("final", {}), dict) and isinstance(s.get("per_task", {}), dict)):
            return None
        if not all(_number_or_none(v) for v in s.get("final", {}).values()):
            return None
        for values in s.get("per_task", {}).values():
            if not (isinstance(values, list) and all(_number_or_none(v) for v in values)):
                return None
    if not isinstance(value.get("scenario_summary", {}), dict):
        value = {k: v for k, v in value.items() if k != "scenario_summary"}
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
            scenario = read_scenario_toml(path / layout.SCENARIO)
        except ScenarioError:
            scenario = {}
        return cls(
            path=path,
            meta=read_meta(path / layout.META) or {},
            status=read_status(path) or {"state": "unknown", "last_step": 0},
            summary=_summary(read_json(path / layout.SUMMARY)),
            scenario=scenario,
        )

    @property
    def state(self) -> str:
        """running, finished, failed, interrupted, abandoned or unknown: ``rundir.state`` decides."""
        return state_from_status(self.status)

    def metrics_tail(self) -> JsonlTail:
        """A reader of metrics.jsonl that keeps only (and counts the lines that are not) scalar records."""
        return JsonlTail(self.path / layout.METRICS, check=is_scalar_record)

    def summary_or_rebuilt(self) -> dict[str, Any]:
        """summary.json, or (a run still going, or a damaged file) the same rebuilt from metrics."""
        if self.summary is not None:
            return self.summary
        builder = SummaryBuilder()
        for r in self.metrics_tail().iter_new():
            builder.add(r["step"], r["series"], r["tag"], record_value(r))
        return builder.summary()

    def events(self) -> list[Event]:
        """Every scalar, task-boundary and array event the run wrote, in file order."""
        events = records_to_events(self.metrics_tail().iter_new())
        for record in JsonlTail(self.path / layout.ARRAYS, check=is_array_record).iter_new():
            event = load_array_event(self.path, record)
            if event is not None:
                events.append(event)
        return events

