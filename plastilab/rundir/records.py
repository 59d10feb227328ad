"""What a run folder's lines must hold to be believed, and the events they stand for.

A damaged, hand-edited or hostile line never raises: it fails ``is_scalar_record`` or
``array_record`` and the reader skips and counts it. What passes is safe to hand to a table,
a chart or ``int()``: finite steps of a sane size, short strings, numbers that fit a float.
"""

from __future__ import annotations

import functools
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from plastilab.core.events import Curve, Event, Histogram, Matrix, Scalars, TaskBoundary
from plastilab.core.safe_text import is_plain
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir.safe_files import inside, open_regular

MAX_STEP = 2**53  # exact as a float, so a chart's axis never rounds it
MAX_NAME = 200  # characters in a series or a tag
MAX_TASK = 2**31
NONFINITE = ("nan", "inf", "-inf")
ARRAY_KINDS = ("histogram", "matrix", "curve")
MAX_ARRAY_FILE_BYTES = 64 << 20  # an instrument's .npz is kilobytes; this is a zip bomb's door
MAX_ARRAY_BYTES = 64 << 20  # decompressed, each array


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int past 1e308
        return False


def _is_name(value: Any) -> bool:
    """A series or tag name: short, one line, no control characters (it is shown on screens)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and _plain(value)


@functools.lru_cache(maxsize=4096)  # a run has a few dozen names, repeated on every line
def _plain(name: str) -> bool:
    return is_plain(name)


def is_scalar_record(r: Any) -> bool:
    """A metrics.jsonl line that keeps the contract: a step, a series, a tag, a finite number
    (or null with an optional ``nonfinite`` flag), an optional finite wall time; a
    ``task/index`` line's value a task number."""
    if not (isinstance(r, dict) and _is_int(r.get("step")) and 0 <= r["step"] < MAX_STEP):
        return False
    if not (_is_name(r.get("series")) and _is_name(r.get("tag"))):
        return False
    value = r.get("value")
    if value is None:
        if r.get("nonfinite", "nan") not in NONFINITE:
            return False
    elif not _is_number(value):
        return False
    if "wall_time" in r and not _is_number(r["wall_time"]):
        return False
    if r["tag"] == "task/index":
        return value is not None and 0 <= value < MAX_TASK and float(value).is_integer()
    return True


def records_to_events(records: Any) -> list[Event]:
    """metrics.jsonl lines -> Scalars (grouped by step and series) and TaskBoundary events.

    Lines that break the contract (a damaged or hand-edited file) are skipped; a reader that
    counts them checks ``is_scalar_record`` first (``JsonlTail(check=...)``).
    """
    events: list[Event] = []
    pending: Scalars | None = None
    for r in records:
        if not is_scalar_record(r):
            continue
        step, series, tag = r["step"], r["series"], r["tag"]
        if tag == "task/index":
            events.append(TaskBoundary(step=step, task=int(r["value"]), series=series))
            continue
        if pending is None or pending.step != step or pending.series != series:
            pending = Scalars(step=step, series=series, values={}, wall_time=float(r.get("wall_time", 0.0)))
            events.append(pending)
        pending.values[tag] = record_value(r)
    return events


def is_array_record(record: Any) -> bool:
    """An arrays.jsonl line that keeps the contract (the file it names is checked on loading)."""
    return (
        isinstance(record, dict)
        and _is_int(record.get("step"))
        and 0 <= record["step"] < MAX_STEP
        and _is_name(record.get("series"))
        and _is_name(record.get("tag"))
        and record.get("kind") in ARRAY_KINDS
        and isinstance(record.get("file"), str)
    )


def load_array_event(run_dir: str | Path, record: Any) -> Event | None:
    """One arrays.jsonl line -> its Histogram / Matrix / Curve event; None when the line breaks
    the contract, or its file is missing, outside the run folder, not a regular file, too big,
    or holds arrays of the wrong shape."""
    if not is_array_record(record):
        return None
    path = inside(run_dir, record["file"])
    if path is None:
        return None
    f = open_regular(path)
    if f is None:
        return None
    with f:
        try:
            if f.seek(0, 2) > MAX_ARRAY_FILE_BYTES:
                return None
            f.seek(0)
            with np.load(f, allow_pickle=False) as data:
                return _array_event(record, data)
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile, AttributeError, RuntimeError):
            return None


def _arrays(data: Any, *names: str) -> list[np.ndarray] | None:
    """The named arrays of an .npz, None if any is missing or would decompress too big."""
    zip_file = getattr(data, "zip", None)
    out = []
    for name in names:
        if zip_file is not None and zip_file.getinfo(name + ".npy").file_size > MAX_ARRAY_BYTES:
            return None
        out.append(np.asarray(data[name]))
    return out


def _numeric(*arrays: np.ndarray) -> bool:
    return all(a.dtype.kind in "biuf" for a in arrays)


def _array_event(record: dict[str, Any], data: Any) -> Event | None:
    step, series, tag, kind = record["step"], record["series"], record["tag"], record["kind"]
    if kind == "histogram":
        got = _arrays(data, "counts", "edges")
        if got is None:
            return None
        counts, edges = got
        if not _numeric(counts, edges) or counts.ndim != 1 or edges.shape != (counts.size + 1,):
            return None
        return Histogram(step, series, tag, counts, edges)
    if kind == "matrix":
        got = _arrays(data, "values", "labels")
        if got is None:
            return None
        values, labels = got
        if not _numeric(values) or values.ndim != 2 or labels.ndim != 1 or labels.size not in (0, values.shape[0]):
            return None
        names = tuple(str(x)[:MAX_NAME] for x in labels) or None
        return Matrix(step, series, tag, values, names)
    got = _arrays(data, "x", "y")
    if got is None:
        return None
    x, y = got
    if not _numeric(x, y) or x.ndim != 1 or x.shape != y.shape:
        return None
    return Curve(step, series, tag, x, y)
