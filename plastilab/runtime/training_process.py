"""The training process: a spawned child that drives a scenario while the app stays responsive.
(Over 300 lines because it holds both sides of the pipe, the child's main and the app's handle;
they are to be split into a child-side and an app-side module.)

The child writes the run folder itself (``RunFolderWriter``) and streams the same events to the
app through a ``multiprocessing`` queue, in small batches. The app asks it to pause, resume or
stop through two ``multiprocessing`` events. It never outlives the app: on Linux the kernel sends
it SIGTERM when the app dies, and a watchdog thread notices a new parent pid elsewhere; both stop
the run cleanly (status ``interrupted``) and the watchdog hard-exits if that takes too long.

The child starts its run through ``runtime.launcher.launch``, as ``plastilab run`` does. This
module imports no Textual: the child imports it under the spawn start method.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue as queue_module
import signal
import sys
import tempfile
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from plastilab.core.events import Event, RunFailed, Scalars
from plastilab.rundir.state import is_end_event

FLUSH_PERIOD_S = 0.1
PARENT_POLL_S = 0.5
PARENT_GONE_GRACE_S = 5.0
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


# -- the child side ---------------------------------------------------------------------------
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


def child_main(spec: LaunchSpec, queue, stop, pause, parent_pid: int, output_path: str) -> None:
    """The spawned process's entry point."""
    _redirect_output(output_path)
    try:
        os.setsid()  # out of the terminal's reach: a hang-up or Ctrl-C goes to the app, which stops us
    except OSError:
        pass
    _stop_with_parent(parent_pid, stop)
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

    from plastilab.core.control import RunControl
    from plastilab.core.errors import PlastilabError
    from plastilab.core.scenario_file import load_scenario
    from plastilab.runtime.launcher import launch, resume

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


def _redirect_output(path: str) -> None:
    """Send the child's stdout and stderr to a file, never into the app's terminal."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _stop_with_parent(parent_pid: int, stop) -> None:
    """Stop the run when the app's process goes away, however it went."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        stop.set()
        time.sleep(PARENT_GONE_GRACE_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


# -- the app side -----------------------------------------------------------------------------
_LIVE: weakref.WeakSet[TrainingProcess] = weakref.WeakSet()


@atexit.register
def _end_all() -> None:
    for process in list(_LIVE):
        process.shutdown(timeout=2.0)


@contextlib.contextmanager
def _real_stderr():
    """multiprocessing hands ``sys.stderr.fileno()`` to its helper process; Textual's stand-in
    answers -1. Lend it a real file for the moment (``/dev/null``: never the app's terminal)."""
    saved = sys.stderr
    try:
        saved.fileno()
        usable = saved.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved


class TrainingProcess:
    """The app's handle on one training child: start, pause, resume, stop, and events out."""

    def __init__(self, spec: LaunchSpec) -> None:
        import multiprocessing as mp

        self.spec = spec
        self._ctx = mp.get_context("spawn")
        with _real_stderr():
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
            target=child_main,
            args=(self.spec, self.queue, self.stop_event, self.pause_event, os.getpid(), self.output_path),
            name="plastilab-training",
        )
        with _real_stderr():
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
