"""What every child process the lab spawns shares: its output kept off the app's terminal, its
own session, and the parent watchdog; and, on the app's side, a real stderr for the spawn.

Two children use it: the training child (``runtime/training_child.py``) and the study child
(``studies/background.py``). Each must never outlive the app: on Linux the kernel sends it a
signal when the app dies (the parent-death signal), and a watchdog thread notices a new parent
pid elsewhere; each child says what that signal is and what stopping means for it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

PARENT_POLL_S = 0.5


def redirect_output(path: str) -> None:
    """Send the child's stdout and stderr to a file, never into the app's terminal."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def leave_terminal() -> None:
    """A session of its own: a hang-up or Ctrl-C goes to the app, which stops the child."""
    try:
        os.setsid()
    except OSError:
        pass


def watch_parent(
    parent_pid: int,
    death_signal: signal.Signals,
    on_parent_gone: Callable[[], None],
    exit_after_s: float | None = None,
) -> None:
    """Call ``on_parent_gone`` when the app's process goes away, however it went.

    On Linux the kernel sends ``death_signal`` to this process when the parent dies; a daemon
    thread also polls the parent pid (other systems, and a parent that died before the signal was
    asked for). With ``exit_after_s``, the process hard-exits that long after ``on_parent_gone``
    if it is still there. A parent already gone: exit at once."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, death_signal)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        on_parent_gone()
        if exit_after_s is not None:
            time.sleep(exit_after_s)
            os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


@contextlib.contextmanager
def real_stderr():
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
