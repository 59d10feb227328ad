"""The run-folder writer: a consumer of the event stream that keeps every number on disk.

metrics.jsonl is flushed after every event, so a reader (``plastilab watch``) is never more
than one event behind, and a killed run loses at most a partial last line, which readers skip.
status.json is written by ``rundir.state`` (atomically, never half-written).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from plastilab import __version__
from plastilab.core.events import (
    Curve,
    Event,
    Histogram,
    Log,
    Matrix,
    RunFailed,
    RunFinished,
    RunInterrupted,
    RunStarted,
    Scalars,
    TaskBoundary,
)
from plastilab.core.scenario_file import Scenario, resolved_dict
from plastilab.rundir import layout, state
from plastilab.rundir.jsonsafe import scalar_record
from plastilab.rundir.summary import SummaryBuilder

STATUS_PERIOD_S = 1.0


class RunFolderWriter:
    def __init__(self, run_dir: str | Path, scenario: Scenario, command: list[str] | None = None) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.scenario = scenario
        self.command = command if command is not None else list(sys.argv)
        self.summary = SummaryBuilder()
        self.series: tuple[str, ...] = ()
        self.last_step = 0
        self.started = time.time()
        self._status_written = 0.0
        self._metrics = open(self.dir / layout.METRICS, "a", encoding="utf-8")
        self._arrays = open(self.dir / layout.ARRAYS, "a", encoding="utf-8")
        self._log = open(self.dir / layout.LOG, "a", encoding="utf-8")
        self._write_text(layout.SCENARIO, tomli_w.dumps(resolved_dict(scenario.config)))
        self._heartbeat()

    # -- the consumer interface ---------------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, Scalars):
            self._scalars(event)
        elif isinstance(event, TaskBoundary):
            names = self.series if event.series is None else (event.series,)
            for name in names:
                self._write_lines([scalar_record(event.step, name, "task/index", float(event.task), time.time())])
        elif isinstance(event, (Histogram, Matrix, Curve)):
            self._array(event)
        elif isinstance(event, Log):
            self._append(self._log, {"level": event.level, "message": event.message, "step": event.step, "wall_time": time.time()})
        elif isinstance(event, RunStarted):
            self.series = event.series
            self._write_meta(event)
            self._heartbeat()
        elif isinstance(event, (RunFinished, RunFailed, RunInterrupted)):
            self._finish(event)

    # -- scalars ----------------------------------------------------------------------------
    def _scalars(self, event: Scalars) -> None:
        records = []
        for tag, value in event.values.items():
            value = float(value)
            records.append(scalar_record(event.step, event.series, tag, value, event.wall_time))
            self.summary.add(event.step, event.series, tag, value)
        self._write_lines(records)
        self.last_step = max(self.last_step, event.step)
        if time.time() - self._status_written >= STATUS_PERIOD_S:
            self._heartbeat()

    def _write_lines(self, records: list[dict[str, Any]]) -> None:
        self._metrics.write("".join(json.dumps(r, allow_nan=False) + "\n" for r in records))
        self._metrics.flush()

    # -- arrays -----------------------------------------------------------------------------
    def _array(self, event: Histogram | Matrix | Curve) -> None:
        kind = type(event).__name__.lower()
        rel = Path(layout.ARRAYS_DIR) / layout.safe_name(event.series) / layout.safe_name(event.tag) / f"{event.step:09d}.npz"
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(event, Histogram):
            np.savez_compressed(path, counts=np.asarray(event.counts), edges=np.asarray(event.edges))
        elif isinstance(event, Matrix):
            labels = np.asarray(event.labels if event.labels is not None else [], dtype=str)
            np.savez_compressed(path, values=np.asarray(event.values), labels=labels)
        else:
            np.savez_compressed(path, x=np.asarray(event.x), y=np.asarray(event.y))
        record = {"step": event.step, "series": event.series, "tag": event.tag, "kind": kind, "file": rel.as_posix()}
        self._append(self._arrays, record)

    # -- end of run ---------------------------------------------------------------------------
    def _finish(self, event: RunFinished | RunFailed | RunInterrupted) -> None:
        end_state = state.state_of(event)
        error = event.error if isinstance(event, RunFailed) else None
        if isinstance(event, RunFailed) and event.details:
            self._write_text(layout.ERROR, event.details)
        summary = self.summary.summary()
        summary.update(state=end_state, scenario=self.scenario.config.name, wall_seconds=round(time.time() - self.started, 2))
        if isinstance(event, RunFinished) and event.summary:
            summary["scenario_summary"] = event.summary
        self._write_text(layout.SUMMARY, json.dumps(summary, indent=2, allow_nan=False))
        state.write_end(self.dir, end_state, self.last_step, error)
        self.close()

    def close(self) -> None:
        for f in (self._metrics, self._arrays, self._log):
            if not f.closed:
                f.close()

    # -- helpers ------------------------------------------------------------------------------
    def _write_meta(self, event: RunStarted) -> None:
        import torch

        meta = {
            "plastilab": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "device": event.device,
            "seed": event.seed,
            "scenario": event.scenario,
            "kind": event.kind,
            "series": list(event.series),
            "total_steps": event.total_steps,
            "command": self.command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
        }
        self._write_text(layout.META, json.dumps(meta, indent=2))

    def _heartbeat(self) -> None:
        state.write_running(self.dir, self.last_step)
        self._status_written = time.time()

    def _append(self, f, record: dict[str, Any]) -> None:
        f.write(json.dumps(record) + "\n")
        f.flush()

    def _write_text(self, name: str, text: str) -> None:
        tmp = self.dir / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.dir / name)
