"""Replay sources: a dashboard's events read from run folders on disk (the live one, a training
child the app started, is ``runtime/live_source.py``).

Every source answers ``poll(timeout) -> list[Event]`` and ``done``; the app's reader worker
calls ``poll`` in a thread and posts what it gets. No Textual in here.

``FolderSource``  a run folder: replayed once, or followed while another process writes it
                  (``plastilab watch``, ``serve --watch``, the launcher's ``--resume`` history)
``CompareSource`` two run folders overlaid, their series prefixed ``A:`` and ``B:``
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from plastilab.core.events import (
    Event,
    Log,
    RunFailed,
    RunFinished,
    RunStarted,
)
from plastilab.rundir import layout
from plastilab.core.safe_text import shown
from plastilab.rundir.reader import (
    JsonlTail,
    RunFolder,
    is_array_record,
    is_scalar_record,
    load_array_event,
    read_meta,
    records_to_events,
)
from plastilab.rundir.state import (
    END_STATES,
    RUNNING,
    RunAbandoned,
    RunRewound,
    end_event_of,
    is_end_event,
    read_status,
    state_from_status,
)

FOLLOW_POLL_S = 0.25


class FolderSource:
    """Replays a run folder's files as events; with ``follow``, keeps reading what is appended."""

    live = False

    def __init__(self, run_dir: str | Path, follow: bool = False, prefix: str = "", wait_for_resume: bool = False) -> None:
        self.dir = Path(run_dir)
        self.follows = follow
        self.live = follow
        self.prefix = prefix
        # A dashboard (not a one-shot reader) keeps following an abandoned run: a resume of it
        # cuts the files back to its checkpoint and writes on, and the view starts over with it.
        self.wait_for_resume = wait_for_resume and follow
        self.done = False
        self._started = False
        self._writer: tuple[object, object] | None = None  # status.json's pid and pid_start when the replay began
        self._abandoned_told = False
        self._open_tails()

    def _open_tails(self) -> None:
        self._metrics = JsonlTail(self.dir / layout.METRICS, check=is_scalar_record)
        self._arrays = JsonlTail(self.dir / layout.ARRAYS, check=is_array_record)
        self._log = JsonlTail(self.dir / layout.LOG)
        self._skipped_told = 0  # malformed lines already reported in the log
        self._quiet_polls = 0

    def poll(self, timeout: float) -> list[Event]:
        if self.done:
            return []
        if self.wait_for_resume and self._started:
            why = self._rewound()
            if why is not None:  # replay from the folder's start: the view is rebuilt from what it now holds
                self._started, self._writer, self._abandoned_told = False, None, False
                self._open_tails()
                return [RunRewound(why)]
        events: list[Event] = []
        if not self._started:
            started = self._run_started()
            if started is None:
                if not self.follows:
                    self.done = True
                    return [RunFailed(0, f"{self.dir}: not a run folder (no meta.json or metrics.jsonl)")]
                time.sleep(timeout)
                return []
            self._started = True
            self._writer = _writer_of(read_status(self.dir))
            events.append(started)
        fresh = self._read_new()
        events.extend(fresh)
        status = read_status(self.dir)
        state = state_from_status(status)
        if fresh:
            self._quiet_polls = 0
        else:
            self._quiet_polls += 1
        if state in END_STATES:
            events.extend(self._read_new())  # lines written just before the status
            events.append(end_event_of(status))
            self.done = True
        elif not self.follows:
            self.done = True  # a replay of a run still being written (or abandoned): show what is there
        elif self._quiet_polls >= 3 and state != RUNNING:  # abandoned: its writer is gone
            if not self._abandoned_told:
                step = int(status.get("last_step", 0))
                events.append(RunAbandoned(step, f"the process writing this run (pid {status.get('pid')}) is gone; the run did not finish"))
                self._abandoned_told = True
            if self.wait_for_resume:
                time.sleep(min(timeout, FOLLOW_POLL_S))  # a resume may take it up again
            else:
                self.done = True
        elif not fresh:
            time.sleep(min(timeout, FOLLOW_POLL_S))
        return events

    # -- reading ------------------------------------------------------------------------------
    def _rewound(self) -> str | None:
        """Why the folder no longer holds what was replayed: another process took the run up
        (status.json names another writer), or a file is shorter than what was read of it (a
        resume cut it back to its checkpoint). None while it only grows."""
        writer = _writer_of(read_status(self.dir))
        if writer != (None, None) and self._writer is not None and writer != self._writer:
            return f"process {writer[0]} took this run up again (a resume): its view starts over from the folder"
        for tail in (self._metrics, self._arrays, self._log):
            try:
                size = os.stat(tail.path).st_size
            except OSError:
                continue
            if size < tail.offset:
                return f"{tail.path.name} was cut back (a resume from a checkpoint): the view starts over from the folder"
        return None

    def _run_started(self) -> RunStarted | None:
        meta = read_meta(self.dir / layout.META)
        if meta is None:
            if not (self.dir / layout.METRICS).is_file():
                return None
            folder = RunFolder.open(self.dir)
            meta = {"scenario": folder.scenario.get("name", self.dir.parent.name), "kind": folder.scenario.get("kind", "")}
        series = tuple(self.prefix + s for s in meta.get("series", []))
        return RunStarted(
            scenario=str(meta.get("scenario", self.dir.parent.name)),
            kind=str(meta.get("kind", "")),
            series=series,
            total_steps=int(meta.get("total_steps", 0)),
            device=str(meta.get("device", "?")),
            seed=int(meta.get("seed", 0)),
            run_dir=str(self.dir),
        )

    def _read_new(self) -> list[Event]:
        events = records_to_events(self._metrics.read_new())
        for record in self._arrays.read_new():
            event = load_array_event(self.dir, record)
            if event is not None:
                events.append(event)
            else:
                self._arrays.skipped += 1  # its file is missing, outside the folder or damaged
        for record in self._log.read_new():
            step = record.get("step")
            step = step if isinstance(step, int) and not isinstance(step, bool) else None
            events.append(Log(shown(record.get("level", "info"), 10), shown(record.get("message", ""), 2000), step))
        skipped = self._metrics.skipped + self._arrays.skipped + self._log.skipped
        if skipped > self._skipped_told:
            self._skipped_told = skipped
            events.append(Log("warning", f"{self.dir.name}: {skipped:,} malformed line(s) skipped so far (metrics, arrays, log)"))
        if self.prefix:
            events = [_prefixed(e, self.prefix) for e in events]
        return events


class CompareSource:
    """Two (or more) run folders in one dashboard; series become ``A:adam-default``, ``B:sgd``…"""

    live = False
    follows = False

    def __init__(self, run_dirs: list[str | Path]) -> None:
        letters = "ABCDEFGH"
        self.sources = [FolderSource(d, prefix=f"{letters[i]}:") for i, d in enumerate(run_dirs)]
        self.done = False

    def poll(self, timeout: float) -> list[Event]:
        starts: list[RunStarted] = []
        rest: list[Event] = []
        ends: list[Event] = []
        for source in self.sources:
            while not source.done:
                for event in source.poll(0):
                    if isinstance(event, RunStarted):
                        starts.append(event)
                    elif is_end_event(event) or isinstance(event, RunAbandoned):
                        ends.append(event)
                    else:
                        rest.append(event)
        self.done = True
        names = " vs ".join(f"{chr(65 + i)}:{s.scenario}" for i, s in enumerate(starts))
        start = RunStarted(
            scenario=names or "comparison",
            kind=starts[0].kind if starts else "",
            series=tuple(name for s in starts for name in s.series),
            total_steps=max((s.total_steps for s in starts), default=0),
            device=",".join(sorted({s.device for s in starts})) or "?",
            seed=starts[0].seed if starts else 0,
        )
        failed = [e for e in ends if isinstance(e, RunFailed)]
        end: Event = failed[0] if failed else RunFinished(max((getattr(e, "step", 0) for e in ends), default=0))
        return [start, *rest, end]


def _writer_of(status: dict) -> tuple[object, object]:
    return status.get("pid"), status.get("pid_start")


def _prefixed(event: Event, prefix: str) -> Event:
    """The same event with its series renamed ``A:name`` (events for every series stay so)."""
    series = getattr(event, "series", None)
    return replace(event, series=prefix + series) if series is not None else event
