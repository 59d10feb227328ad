"""Helpers for the resume tests: stop a run after a checkpoint, and compare two run folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from plastilab.core.control import RunControl
from plastilab.core.events import Scalars
from plastilab.rundir import layout

TIME_KEYS = ("wall_time",)


class StopAfter:
    """Asks the run to stop once it has seen a ``Scalars`` at ``step`` or later (of a series
    ending in ``series``): a run stopped past a checkpoint has lines on disk that its resume
    must drop."""

    def __init__(self, control: RunControl, step: int, series: str = "") -> None:
        self.control = control
        self.step = step
        self.series = series

    def handle(self, event) -> None:
        if isinstance(event, Scalars) and event.step >= self.step and event.series.endswith(self.series):
            self.control.stop.set()


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIME_KEYS} for r in records]


def assert_same_run(resumed: Path, uninterrupted: Path) -> None:
    """Every number the two folders hold is the same: metrics, arrays (and their .npz), logs,
    the summary; wall times aside."""
    for name in (layout.METRICS, layout.ARRAYS, layout.LOG):
        mine, theirs = without_times(lines(resumed / name)), without_times(lines(uninterrupted / name))
        assert len(mine) == len(theirs), name
        for i, (a, b) in enumerate(zip(mine, theirs)):
            assert a == b, f"{name} line {i + 1}: {a} != {b}"
    for record in lines(resumed / layout.ARRAYS):
        with np.load(resumed / record["file"]) as a, np.load(uninterrupted / record["file"]) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                assert np.array_equal(a[key], b[key]), (record["file"], key)
    npz = lambda folder: sorted(p.relative_to(folder) for p in folder.glob(f"{layout.ARRAYS_DIR}/**/*.npz"))  # noqa: E731
    assert npz(resumed) == npz(uninterrupted)  # no stray .npz from the steps after the checkpoint
    summaries = [json.loads((folder / layout.SUMMARY).read_text()) for folder in (resumed, uninterrupted)]
    for summary in summaries:
        summary.pop("wall_seconds")
    assert summaries[0] == summaries[1]
