"""The app's side of the training process: the handle on a spawned child that drives a scenario
while the app stays responsive (the child's side is ``runtime/training_child.py``).

The app starts the child, asks it to pause, resume or stop through two ``multiprocessing``
events, and takes the events it sends through a ``multiprocessing`` queue. A child that does not
listen is terminated, then killed; one that dies without saying how the run ended is reported
with the last line it printed. No Textual in here.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue as queue_module
import signal
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from plastilab.core.events import Event, Scalars
from plastilab.rundir.state import is_end_event
from plastilab.runtime.child_process import real_stderr
from plastilab.runtime.training_child import LaunchSpec, training_child_main

# After SIGTERM the child closes its run folder (summary, status) and exits: well under a second
# alone, many seconds when other processes keep the cores busy. SIGKILL only after this.
TERMINATE_GRACE_S = 15.0


@dataclass
class LaunchRequest:
    """What the lab's picker (or a rerun) asks for: a scenario file, the form's overrides, a device."""

    scenario_path: Path
    overrides: list[str]
    device: str | None  # None: the file's own
    resume_dir: Path | None = None  # continue this run folder from its checkpoint instead


_LIVE: weakref.WeakSet[TrainingProcess] = weakref.WeakSet()


@atexit.register
def _end_all() -> None:
    for process in list(_LIVE):
        process.shutdown(timeout=2.0)


class TrainingProcess:
    """The app's handle on one training child: start, pause, resume, stop, and events out."""

    def __init__(self, spec: LaunchSpec) -> None:
        self.spec = spec
        self._ctx = multiprocessing.get_context("spawn")
        with real_stderr():
            self.queue = self._ctx.Queue()
            self.stop_event = self._ctx.Event()
            self.pause_event = self._ctx.Event()
        self.process = None
        self.ended = False  # an end event came through the queue
        self.last_step = 0
        self.run_dir: str | None = None
        fd, self.output_path = tempfile.mkstemp(prefix="plastilab-train-", suffix=".log")
        os.close(fd)

    # control
    def start(self) -> None:
        self.process = self._ctx.Process(
            target=training_child_main,
            args=(self.spec, self.queue, self.stop_event, self.pause_event, os.getpid(), self.output_path),
            name="plastilab-training",
        )
        with real_stderr():
            self.process.start()
        _LIVE.add(self)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def is_alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    @property
    def paused(self) -> bool:
        return self.pause_event.is_set()

    def pause(self) -> None:
        self.pause_event.set()

    def resume(self) -> None:
        self.pause_event.clear()

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()

    def request_stop(self) -> None:
        self.stop_event.set()
        self.pause_event.clear()

    def shutdown(self, timeout: float = 5.0, drain: bool = True) -> None:
        """Stop the child and wait for it; terminate, then kill, if it does not listen. Idempotent.

        ``drain``: empty the queue while waiting (when no reader is left to do it).
        """
        process = self.process
        if process is None:
            return
        if process.is_alive():
            # Only a live child hears the stop. A dead one may have died inside the event's
            # shared lock (killed mid-check), and setting the event would then wait forever.
            self.request_stop()
            self._join(timeout, drain)
        if process.is_alive():
            process.terminate()
            self._join(TERMINATE_GRACE_S, drain)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        _LIVE.discard(self)
        self._remove_output()

    def _join(self, timeout: float, drain: bool) -> None:
        """Join; with ``drain``, empty the queue meanwhile so a child flushing its last batch never sticks."""
        deadline = time.monotonic() + timeout
        while self.process.is_alive() and time.monotonic() < deadline:
            if drain:
                try:
                    while True:
                        self.queue.get_nowait()
                except (queue_module.Empty, OSError, EOFError, ValueError):
                    pass
            self.process.join(0.05)

    # events
    def poll(self, timeout: float = 0.1, limit: int = 50_000) -> list[Event]:
        """Events sent since the last call (waits up to ``timeout`` for the first)."""
        events: list[Event] = []
        try:
            events.extend(self.queue.get(timeout=timeout))
            while len(events) < limit:
                events.extend(self.queue.get_nowait())
        except (queue_module.Empty, OSError, EOFError, ValueError):
            pass
        for event in events:
            if is_end_event(event):
                self.ended = True
            elif isinstance(event, Scalars):
                self.last_step = max(self.last_step, event.step)
            elif getattr(event, "run_dir", None):
                self.run_dir = event.run_dir
        return events

    @property
    def died(self) -> bool:
        """The child is gone and no end event came: it was killed or crashed outside ``drive``."""
        return self.process is not None and not self.ended and self.process.exitcode is not None

    def death_reason(self) -> str:
        code = self.process.exitcode if self.process is not None else None
        if code is None:
            text = "the training process vanished"
        elif code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            text = f"the training process was killed by {name} (exit code {code})"
        else:
            text = f"the training process exited with code {code} before the run ended"
        tail = self.output_tail()
        return f"{text}: {tail}" if tail else text

    def output_tail(self) -> str:
        """The last line the child printed (e.g. the last line of a traceback), if any."""
        try:
            lines = Path(self.output_path).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip()[:200] if lines else ""

    def _remove_output(self) -> None:
        try:
            os.unlink(self.output_path)
        except OSError:
            pass
