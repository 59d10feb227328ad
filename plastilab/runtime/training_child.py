"""The training child's side: a spawned process that drives a scenario while the app stays
responsive (the app's handle on it is ``runtime/training_process.py``).

The child starts its run through ``runtime.launcher.launch``, as ``plastilab run`` does, writes
the run folder itself (``RunFolderWriter``) and streams the same events to the app through a
``multiprocessing`` queue, in small batches (``QueueConsumer``). The app asks it to pause,
resume or stop through two ``multiprocessing`` events. It never outlives the app: the parent
watchdog (``runtime/child_process.py``) stops the run cleanly (status ``interrupted``) when the
app dies and hard-exits if that takes too long. This module imports no Textual: the child
imports it under the spawn start method.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from plastilab.core.control import RunControl
from plastilab.core.errors import PlastilabError
from plastilab.core.events import Event, RunFailed, Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.runtime.child_process import leave_terminal, redirect_output, watch_parent
from plastilab.runtime.launcher import launch, resume

FLUSH_PERIOD_S = 0.1
PARENT_GONE_GRACE_S = 5.0


@dataclass(frozen=True)
class LaunchSpec:
    """Everything the child needs, picklable: a scenario file plus the form's overrides."""

    scenario_path: str
    overrides: tuple[str, ...] = ()
    device: str | None = None
    runs_root: str = "runs"
    threads: int | None = None  # torch threads; None: the scenario's ``threads`` (as `plastilab run`)
    command: tuple[str, ...] = field(default_factory=tuple)
    resume_dir: str | None = None  # continue this run folder from its checkpoint (``launcher.resume``)


class QueueConsumer:
    """Sends events to the app in batches: at most every 0.1 s for scalars, at once for the rest."""

    def __init__(self, queue, period: float = FLUSH_PERIOD_S) -> None:
        self.queue = queue
        self.period = period
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._flush_now_and_then, name="queue-flusher", daemon=True)
        self._thread.start()

    def handle(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            urgent = not isinstance(event, Scalars) or time.monotonic() - self._last >= self.period
            if urgent:
                self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending:
            self.queue.put(self._pending)
            self._pending = []
        self._last = time.monotonic()

    def _flush_now_and_then(self) -> None:
        while not self._closed.wait(self.period):
            with self._lock:
                if self._pending and time.monotonic() - self._last >= self.period:
                    self._flush_locked()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._flush_locked()


def training_child_main(spec: LaunchSpec, queue, stop, pause, parent_pid: int, output_path: str) -> None:
    """The spawned training process's entry point."""
    redirect_output(output_path)
    leave_terminal()  # out of the terminal's reach: a hang-up or Ctrl-C goes to the app, which stops us
    watch_parent(parent_pid, signal.SIGTERM, stop.set, exit_after_s=PARENT_GONE_GRACE_S)

    def on_terminate(*_):
        # First ask: stop at the next event. Asked again (the app's terminate after a grace
        # period, e.g. in a long probe that yields nothing): interrupt the computation itself,
        # so the driver still ends the run as interrupted and the files are closed.
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, on_terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    consumer = QueueConsumer(queue)
    try:
        control = RunControl(stop=stop, pause=pause)
        if spec.resume_dir is not None:
            command = list(spec.command) or ["plastilab", "(lab)", "--resume", spec.resume_dir]
            # history: the dashboard draws the run from its first step, not from the checkpoint
            resume(spec.resume_dir, consumers=[consumer], control=control, threads=spec.threads, command=command, history=True)
        else:
            scenario = load_scenario(spec.scenario_path, list(spec.overrides), device=spec.device)
            command = list(spec.command) or ["plastilab", "(lab)", spec.scenario_path]
            launch(scenario, spec.runs_root, consumers=[consumer], control=control, threads=spec.threads, command=command)
    except PlastilabError as exc:
        consumer.handle(RunFailed(0, str(exc)))
    except BaseException as exc:  # noqa: BLE001 - the app must hear about every way this ends
        consumer.handle(RunFailed(0, f"{type(exc).__name__}: {exc}", details=traceback.format_exc()))
    finally:
        consumer.close()
        queue.close()
        queue.join_thread()  # every event is in the pipe; the run folder is closed
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.unlink(output_path)  # the run ended and said how: nothing here for the app to read
        except OSError:
            pass
        os._exit(0)  # skip the interpreter's (and torch's) slow teardown: the app waits on us
