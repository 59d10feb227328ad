"""The signals that end a run: SIGINT (Ctrl-C), SIGTERM (``kill``, ``timeout``) and SIGHUP (the
terminal went away). Each ends a headless run the same way, as ``interrupted``.

Two pieces, both for the main thread (Python runs signal handlers there and only there):

``stop_signals()``  for the length of a headless run, each of the three raises ``StopSignal``, a
                    ``KeyboardInterrupt`` that remembers its signal, so the driver ends the run as
                    Ctrl-C does and the CLI exits 128 + the signal's number (130, 143, 129).
                    SIGINT is caught even when it was inherited ignored (``cmd &`` in a script
                    starts it so); SIGHUP is left alone when ignored (``nohup`` asked for that).
                    The previous handlers come back afterwards, so a run made inside a longer
                    process leaves nothing ignored behind it.
``signals_held()``  while a run folder is made, these signals wait: whatever handler is in force
                    is called when the block ends, so no signal can leave a half-made folder.

Why a raised ``StopSignal`` is not enough on its own: Python runs a handler between any two
bytecodes of the main thread, including inside a finalizer (``__del__``, a weakref callback, a
garbage collection the training loop's allocations triggered), and an exception raised there
is printed as "Exception ignored" and dropped. The run then went on as if no signal had come
(a SIGHUP under load once left a run training 120 s after it). So the handler also sets a
``StopFlag`` the driver reads after every event: a swallowed exception still ends the run at
the next step.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Ignored by the parent on purpose, not by accident: ``nohup`` ignores SIGHUP so a run outlives
# its terminal. (A script's ``cmd &`` ignores SIGINT, which nobody asked for: that one is caught.)
RESPECT_IGNORED = (signal.SIGHUP,)


class StopSignal(KeyboardInterrupt):
    """A stop signal arrived; ``exit_code`` is the shell's convention for it (128 + its number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.signum)


def exit_code_of(signum: int) -> int:
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopFlag:
    """An event-like flag (``is_set``/``set``/``clear``/``wait``, as ``RunControl.stop`` wants)
    that a signal handler may set. ``threading.Event.set`` takes a lock; a handler that runs
    while the interrupted code holds that lock (inside ``Event.wait``) would wait forever."""

    def __init__(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True

    def clear(self) -> None:
        self._set = False

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return self._set


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_signals(flag: StopFlag | None = None) -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP raise ``StopSignal`` inside the block and set ``flag`` (pass
    it to the run as ``RunControl(stop=flag)``: see the module's docstring); yields the list of
    the signals received (in order), for the exit code. Outside the main thread: nothing changes."""
    received: list[int] = []
    if not in_main_thread():
        yield received
        return

    def on_signal(signum, frame) -> None:
        received.append(signum)
        if flag is not None:
            flag.set()
        raise StopSignal(signum)

    previous = {}
    for number in STOP_SIGNALS:
        handler = signal.getsignal(number)
        if number in RESPECT_IGNORED and handler == signal.SIG_IGN:
            continue
        previous[number] = handler
        signal.signal(number, on_signal)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold the stop signals while the block runs; then deliver each one received to the handler
    in force (it may raise, from the end of the ``with``: put that inside the ``try`` that cleans
    up). A signal whose handler is the default action is re-raised and takes its default course.

    Python-level, not ``pthread_sigmask``: a signal may land on any thread (a progress bar's,
    torch's), and only a handler swap defers it for the whole process."""
    if not in_main_thread():
        yield
        return
    held: list[int] = []
    previous = {}
    for number in STOP_SIGNALS:
        handler = signal.getsignal(number)
        if handler in (signal.SIG_IGN, None):  # ignored, or set outside Python: not ours to hold
            continue
        previous[number] = handler
        signal.signal(number, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(held):  # each signal once, in the order they came
            handler = previous[number]
            if callable(handler):
                handler(number, None)
            else:
                signal.raise_signal(number)
