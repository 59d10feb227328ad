"""A study the lab starts: the runner of ``plastilab run STUDY.toml`` in a spawned child process.

The lab's own process must stay free for Textual (a scheduler loop there starves its timers), so
the child does what the CLI does (check every trial, make the study folder, ``run_study`` on the
local pool, aggregate) and tells the app the folder's path through a pipe. The app reads the
study's progress from the folder, as any viewer does.

Stopping is the CLI's Ctrl-C: SIGINT once asks every running trial to stop (each ends
``interrupted``, pending ones stay ``pending``), twice kills the workers (their trials end
``abandoned``). The child is in its own session, so the app's terminal's Ctrl-C never reaches
it; when the app dies it gets SIGINT (the parent watchdog of ``runtime/child_process.py``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from plastilab.core.errors import PlastilabError
from plastilab.runtime.child_process import leave_terminal, real_stderr, redirect_output, watch_parent
from plastilab.studies.aggregate import aggregate_study
from plastilab.studies.claim import study_claim
from plastilab.studies.folder import new_study_dir
from plastilab.studies.runner import run_study
from plastilab.studies.study_file import check_study, load_study_plan


def study_child_main(study_path: str, overrides: list[str], runs_root: str, conn, parent_pid: int, log_path: str) -> None:
    """The spawned study process's entry point."""
    redirect_output(log_path)
    leave_terminal()
    # The app gone: stop the study as its Ctrl-C does (the parent-death signal is SIGINT too).
    watch_parent(parent_pid, signal.SIGINT, lambda: os.kill(os.getpid(), signal.SIGINT))
    # SIGTERM and SIGHUP stop the study as Ctrl-C does (the runner's handler, once it is in place).
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    try:
        try:
            study = load_study_plan(study_path, overrides)
            check_study(study)
            study_dir = new_study_dir(study, runs_root)
        except PlastilabError as exc:
            conn.send(("error", str(exc)))
            return
        conn.send(("folder", str(study_dir)))
        with study_claim(study_dir):  # one scheduler per study folder
            outcome = run_study(study, study_dir, quiet=True, command=["plastilab", "(lab)", str(study_path)])
        if outcome.counts.get("finished"):
            aggregate_study(study_dir)
        conn.send(("ended", outcome.counts))
    except KeyboardInterrupt:
        conn.send(("ended", {}))
    except BaseException as exc:  # noqa: BLE001 - the app must hear how this ended
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        sys.stdout.flush()
        sys.stderr.flush()


class StudyProcess:
    """The app's handle on a study it started."""

    def __init__(self, study_path: str | Path, runs_root: str | Path, overrides: list[str] | None = None) -> None:
        self.study_path = Path(study_path)
        self.runs_root = Path(runs_root)
        self.overrides = list(overrides or [])
        self.study_dir: Path | None = None
        self.error: str | None = None
        self.ended = False
        self.stops = 0
        self._process = None
        self._conn = None
        self._log = ""

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        handle, self._log = tempfile.mkstemp(prefix="plastilab-study-", suffix=".log")
        os.close(handle)
        self._process = context.Process(
            target=study_child_main,
            args=(str(self.study_path), self.overrides, str(self.runs_root), send, os.getpid(), self._log),
            name=f"study {self.study_path.stem}",
            daemon=False,  # it starts its own worker processes
        )
        with real_stderr():  # Textual's stderr has no fd
            self._process.start()
        send.close()
        self._conn = receive

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def poll(self, timeout: float = 0.0) -> None:
        """Take what the child said: its study folder, an error, or that it ended."""
        conn = self._conn
        if conn is None:
            return
        try:
            while conn.poll(timeout):
                kind, value = conn.recv()
                if kind == "folder":
                    self.study_dir = Path(value)
                elif kind == "error":
                    self.error = value
                    self.ended = True
                elif kind == "ended":
                    self.ended = True
                timeout = 0.0
        except (EOFError, OSError):
            self._conn = None
            self.ended = True
            if self.study_dir is None and self.error is None:
                self.error = self._last_log_line() or "the study process ended without a word"

    def wait_for_folder(self, timeout: float) -> Path | None:
        deadline = time.monotonic() + timeout
        while self.study_dir is None and not self.ended and time.monotonic() < deadline:
            self.poll(0.2)
        return self.study_dir

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self) -> None:
        """Ctrl-C for the study: the first asks every trial to stop, a second kills the workers."""
        if self.is_alive():
            self.stops += 1
            os.kill(self._process.pid, signal.SIGINT)

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop and wait; kill the workers if they linger; never leave the child behind."""
        if self._process is None:
            return
        if self.is_alive() and self.stops == 0:
            self.stop()
        self._process.join(timeout)
        if self.is_alive():
            self.stop()  # the second Ctrl-C: the workers are killed, their trials end abandoned
            self._process.join(timeout / 2)
        if self.is_alive():
            self._process.kill()
            self._process.join(5.0)
        self.poll()
        try:
            os.unlink(self._log)
        except OSError:
            pass

    def _last_log_line(self) -> str:
        try:
            lines = [line for line in Path(self._log).read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""
