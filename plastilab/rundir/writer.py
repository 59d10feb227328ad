"""The run-folder writer: a consumer of the event stream that keeps every number on disk.

metrics.jsonl is flushed after every event, so a reader (``plastilab watch``) is never more
than one event behind, and a killed run loses at most a partial last line, which readers skip.
status.json is written by ``rundir.state`` (atomically, never half-written).

A write that fails (a full disk, a permission lost) ends the run: the writer raises
``WriteFailed``, a one-line error naming the path, which the driver turns into the run's failed
end; from then on it writes nothing but the end: status.json ``failed`` with that line (in
place, if the disk is too full for a temporary copy), no temporary files left behind, and
everything flushed before the failure kept.
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

from plastilab.core.version import __version__
from plastilab.core.errors import PlastilabError
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
from plastilab.rundir import layout, safe_files, state
from plastilab.rundir.jsonsafe import scalar_record
from plastilab.rundir.reader import JsonlTail
from plastilab.rundir.records import is_scalar_record
from plastilab.rundir.small_json import read_json
from plastilab.rundir.summary import SummaryBuilder

STATUS_PERIOD_S = 1.0


class WriteFailed(PlastilabError):
    """A run-folder file could not be written; the message names it and says why."""

    exit_code = 1

    @classmethod
    def at(cls, path: Path, exc: OSError) -> WriteFailed:
        return cls(f"{path}: cannot write ({exc.strerror or exc}); the run stopped as failed, keeping what was written before")


class RunFolderWriter:
    def __init__(self, run_dir: str | Path, scenario: Scenario, command: list[str] | None = None, resuming: bool = False) -> None:
        """``resuming``: the folder holds a run cut back to its checkpoint (``runtime.resume``);
        its files are appended to, and the summary continues from the lines already there."""
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.scenario = scenario
        self.command = command if command is not None else list(sys.argv)
        self.summary = SummaryBuilder()
        self.series: tuple[str, ...] = ()
        self.last_step = 0
        self.started = time.time()
        self._status_written = 0.0
        self.failure: WriteFailed | None = None  # the first write that failed, if any
        self.ended = False  # the end is recorded (summary.json, status.json's end state)
        self.resuming = resuming
        self._paths: dict[Any, str] = {}  # each open data file -> its path, for error lines
        if resuming:
            self._continue_summary()
        self._metrics = self._open(layout.METRICS)
        self._arrays = self._open(layout.ARRAYS)
        self._log = self._open(layout.LOG)
        self._guarded(lambda: self._write_text(layout.SCENARIO, tomli_w.dumps(resolved_dict(scenario.config))))
        self._guarded(self._heartbeat)

    # -- the consumer interface ---------------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, (RunFinished, RunFailed, RunInterrupted)):
            self._finish(event)
        elif self.failure is None:
            self._guarded(lambda: self._handle(event))

    def _guarded(self, write) -> None:
        """Run ``write``; turn the first OSError into ``WriteFailed`` (raised: the driver ends
        the run with it) and stop writing."""
        try:
            write()
        except OSError as exc:
            path = Path(exc.filename) if exc.filename else self.dir
            self.failure = WriteFailed.at(path, exc)
            raise self.failure from None

    def _open(self, name: str):
        try:  # never through a link, never blocking on a FIFO put in the file's place
            f = safe_files.append_in(self.dir, name)
            # opened from a descriptor, so its ``name`` is a number: errors name the path instead
            self._paths[f] = str(self.dir / name)
            return f
        except OSError as exc:
            self.failure = WriteFailed.at(self.dir / name, exc)
            raise self.failure from None

    def _handle(self, event: Event) -> None:
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

    # -- scalars ----------------------------------------------------------------------------
    def _scalars(self, event: Scalars) -> None:
        values = {tag: float(value) for tag, value in event.values.items()}
        self._write_lines([scalar_record(event.step, event.series, tag, value, event.wall_time) for tag, value in values.items()])
        # Only what reached metrics.jsonl enters the summary: it must be rebuildable from the folder.
        for tag, value in values.items():
            self.summary.add(event.step, event.series, tag, value)
        self.last_step = max(self.last_step, event.step)
        if time.time() - self._status_written >= STATUS_PERIOD_S:
            self._heartbeat()

    def _write_lines(self, records: list[dict[str, Any]]) -> None:
        self._flushed(self._metrics, "".join(json.dumps(r, allow_nan=False) + "\n" for r in records))

    # -- arrays -----------------------------------------------------------------------------
    def _array(self, event: Histogram | Matrix | Curve) -> None:
        kind = type(event).__name__.lower()
        rel = Path(layout.ARRAYS_DIR) / layout.safe_name(event.series) / layout.safe_name(event.tag) / f"{event.step:09d}.npz"
        path = self.dir / rel
        try:
            with safe_files.create_in(self.dir, rel, make_dirs=True) as f:  # no link on the way is followed
                if isinstance(event, Histogram):
                    np.savez_compressed(f, counts=np.asarray(event.counts), edges=np.asarray(event.edges))
                elif isinstance(event, Matrix):
                    labels = np.asarray(event.labels if event.labels is not None else [], dtype=str)
                    np.savez_compressed(f, values=np.asarray(event.values), labels=labels)
                else:
                    np.savez_compressed(f, x=np.asarray(event.x), y=np.asarray(event.y))
        except OSError as exc:
            safe_files.unlink_in(self.dir, rel)  # a half-written .npz is junk
            exc.filename = exc.filename or str(path)
            raise
        record = {"step": event.step, "series": event.series, "tag": event.tag, "kind": kind, "file": rel.as_posix()}
        self._append(self._arrays, record)

    # -- end of run ---------------------------------------------------------------------------
    def _finish(self, event: RunFinished | RunFailed | RunInterrupted) -> None:
        end_state = state.state_of(event)
        error = event.error if isinstance(event, RunFailed) else None
        if self.failure is not None:
            end_state, error = "failed", str(self.failure)  # whatever ended the run, this did first
        try:
            if isinstance(event, RunFailed) and event.details and self.failure is None:
                self._write_text(layout.ERROR, event.details)
            summary = self.summary.summary()
            summary.update(state=end_state, scenario=self.scenario.config.name, wall_seconds=round(time.time() - self.started, 2))
            if isinstance(event, RunFinished) and event.summary:
                summary["scenario_summary"] = event.summary
            self._write_text(layout.SUMMARY, json.dumps(summary, indent=2, allow_nan=False))
        except OSError as exc:  # the disk filled at the end: the summary can be rebuilt from metrics
            if self.failure is None:
                self.failure = WriteFailed.at(Path(exc.filename or self.dir / layout.SUMMARY), exc)
                end_state, error = "failed", str(self.failure)
        self.close()
        try:
            state.write_end(self.dir, end_state, self.last_step, error)  # in place when a full disk leaves no room
        except OSError:
            pass  # nothing more can be written here; a reader sees the last status that was
        self.ended = True

    def close(self) -> None:
        for f in (self._metrics, self._arrays, self._log):
            if not f.closed:
                try:
                    f.close()
                except OSError:  # its last buffer could not be flushed (a full disk): drop it
                    pass

    # -- helpers ------------------------------------------------------------------------------
    def _continue_summary(self) -> None:
        """The summary and last step of the lines a resumed run already has (as written)."""
        for record in JsonlTail(self.dir / layout.METRICS, check=is_scalar_record).iter_new():
            if record["tag"] == "task/index":
                continue  # written for TaskBoundary events, which the summary never saw
            value = record["value"]
            self.summary.add(record["step"], record["series"], record["tag"], None if value is None else float(value))
            self.last_step = max(self.last_step, record["step"])

    def _write_meta(self, event: RunStarted) -> None:
        import torch  # deferred: the lab reaches this module through the launcher, and needs no torch

        meta = {
            "plastilab": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "device": event.device,
            "seed": event.seed,
            # The same scenario, seed and device give the same numbers at the same thread count.
            "threads": torch.get_num_threads(),
            "scenario": event.scenario,
            "kind": event.kind,
            "series": list(event.series),
            "total_steps": event.total_steps,
            "command": self.command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
        }
        if event.resumed_from is not None:
            meta = self._resumed_meta(meta, event.resumed_from)
        self._write_text(layout.META, json.dumps(meta, indent=2))

    def _resumed_meta(self, meta: dict[str, Any], step: int) -> dict[str, Any]:
        """The first start's meta.json, with this resume added to its ``resumes``."""
        first = read_json(self.dir / layout.META) or {}
        resumes = first.get("resumes") if isinstance(first.get("resumes"), list) else []
        resumes.append({"step": step, "started": meta["started"], "command": meta["command"], "threads": meta["threads"]})
        return {**meta, **{k: first[k] for k in ("started", "command") if k in first}, "resumes": resumes}

    def _heartbeat(self) -> None:
        state.write_running(self.dir, self.last_step)
        self._status_written = time.time()

    def _append(self, f, record: dict[str, Any]) -> None:
        self._flushed(f, json.dumps(record) + "\n")

    def _flushed(self, f, text: str) -> None:
        try:
            f.write(text)
            f.flush()
        except OSError as exc:
            name = getattr(f, "name", None)  # a number for the files opened from a descriptor
            exc.filename = exc.filename or (name if isinstance(name, str) else self._paths.get(f, str(self.dir)))
            raise

    def _write_text(self, name: str, text: str) -> None:
        tmp = self.dir / (name + ".tmp")
        try:
            safe_files.write_new_in(self.dir, tmp.name, text.encode("utf-8"))  # a link planted as the .tmp is replaced, not followed
            os.replace(tmp, self.dir / name)
        except OSError as exc:
            safe_files.unlink_in(self.dir, tmp.name)  # never leave a half-written temporary copy
            exc.filename = str(self.dir / name)
            raise
