"""A run's state: the one module that writes status.json and decides what a run folder is doing.

States a run folder can be in:

``running``      its writer is alive and writing
``finished``     it ran to the end
``failed``       bad input or a bug ended it (``error`` says why; ``error.txt`` keeps a traceback)
``interrupted``  Ctrl-C, the lab's stop, or the app going away ended it cleanly
``abandoned``    status.json still says running but the process writing it is gone (killed,
                 the machine rebooted): nobody will finish it

The first four are written to status.json; ``abandoned`` is only ever decided, by
``read_state``, so ``plastilab report``, ``plastilab watch`` and the lab's runs list say the
same word for a dead run. A pid alone is not proof of life: pids are reused, so status.json
also records the writer's start time (Linux: ``/proc/<pid>/stat`` field 22, in clock ticks
since boot) and a live pid whose start time differs is another process.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.core.events import Event, RunFailed, RunFinished, RunInterrupted
from plastilab.core.safe_text import shown
from plastilab.rundir import layout, safe_files
from plastilab.rundir.small_json import printable, read_json, whole_number

RUNNING = "running"
ABANDONED = "abandoned"
UNKNOWN = "unknown"  # no readable status.json (a folder still being made, or not a run)
END_STATES = ("finished", "failed", "interrupted")
LIVE_STATES = ("starting", RUNNING)  # "starting": written by older versions before RunStarted

FINAL_STATES = (*END_STATES, ABANDONED)  # states a run never leaves
MAX_ERROR_CHARS = 2000  # status.json's error as read back: a line, not a traceback (error.txt has it)

_END_STATE_OF = {RunFinished: "finished", RunFailed: "failed", RunInterrupted: "interrupted"}


@dataclass(frozen=True)
class RunAbandoned:
    """Not an engine event (a run never says it was abandoned): what a reader of a run folder
    reports when ``read_state`` finds the folder's writer gone, so a dashboard that follows the
    folder ends in the same word as ``plastilab report`` and the runs list."""

    step: int
    reason: str


@dataclass(frozen=True)
class RunRewound:
    """Not an engine event either: a followed folder was taken up again (``plastilab run --resume``
    cut its files back to a checkpoint). What was shown is dropped; the replay starts over."""

    reason: str


def state_of(end: Event) -> str:
    """The state an end event leaves a run in: ``finished``, ``failed`` or ``interrupted``."""
    try:
        return _END_STATE_OF[type(end)]
    except KeyError:
        raise ValueError(f"not an end event: {type(end).__name__}") from None


def is_end_event(event: Event) -> bool:
    return type(event) in _END_STATE_OF


def end_event_of(status: dict[str, Any]) -> Event:
    """The end event a finished status.json stands for (a reader replaying a run folder)."""
    step = _int(status.get("last_step"))
    state = status.get("state")
    if state == "finished":
        return RunFinished(step)
    if state == "interrupted":
        return RunInterrupted(step)
    return RunFailed(step, str(status.get("error") or "the run failed (no reason recorded)"))


# -- writing ------------------------------------------------------------------------------------
def write_running(run_dir: str | Path, last_step: int) -> None:
    """The writer's heartbeat: this process is running the run, at ``last_step``."""
    _write(Path(run_dir), {"state": RUNNING, "last_step": last_step, **this_process()})


def write_end(run_dir: str | Path, state: str, last_step: int, error: str | None = None) -> None:
    """The writer's last word: the run ended in ``state`` (one of ``END_STATES``)."""
    if state not in END_STATES:
        raise ValueError(f"{state!r} is not an end state; allowed: {', '.join(END_STATES)}")
    status: dict[str, Any] = {"state": state, "last_step": last_step, **this_process()}
    if error:
        status["error"] = error
    _write(Path(run_dir), status)


def record_end_for_dead_writer(run_dir: str | Path, state: str, reason: str, last_step: int) -> None:
    """Another process (the lab) records how a run ended whose own process could not say so
    (killed, crashed). Never overwrites an end the run wrote itself; the writer's pid stays."""
    if state not in END_STATES:
        raise ValueError(f"{state!r} is not an end state; allowed: {', '.join(END_STATES)}")
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if status.get("state") in END_STATES:
        return
    status.update(state=state, error=reason, updated=time.time())
    status["last_step"] = max(_int(status.get("last_step")), last_step)
    try:
        _write(run_dir, status, stamp=False)
    except OSError:
        pass  # a folder that vanished or went read-only: the dashboard still says why


def _write(run_dir: Path, status: dict[str, Any], stamp: bool = True) -> None:
    """status.json replaced atomically (temp file, then rename): a reader never sees half of it.

    On a disk too full for the temporary copy, an end state is still recorded: status.json is
    rewritten in place (truncating it frees the blocks its new content needs), and no temporary
    file is left behind. A heartbeat that cannot be written raises (the writer ends the run)."""
    if stamp:
        status["updated"] = time.time()
    text = json.dumps(status, indent=2)
    tmp = run_dir / (layout.STATUS + ".tmp")
    try:
        safe_files.write_new_in(run_dir, tmp.name, text.encode("utf-8"))
        os.replace(tmp, run_dir / layout.STATUS)
    except OSError as exc:
        safe_files.unlink_in(run_dir, tmp.name)
        if status.get("state") not in END_STATES:
            exc.filename = str(run_dir / layout.STATUS)
            raise
        with os.fdopen(safe_files.open_fd_in(run_dir, layout.STATUS, os.O_RDWR), "r+", encoding="utf-8") as f:
            f.truncate(0)
            f.write(json.dumps(status))


_PROCESS: dict[str, Any] | None = None


def this_process() -> dict[str, Any]:
    """pid and start time of this process (read once: they never change)."""
    global _PROCESS
    pid = os.getpid()
    if _PROCESS is None or _PROCESS["pid"] != pid:  # a forked child is another process
        _PROCESS = {"pid": pid}
        started = process_start_time(pid)
        if started is not None:
            _PROCESS["pid_start"] = started
    return dict(_PROCESS)


# -- reading ------------------------------------------------------------------------------------
def read_status(run_dir: str | Path) -> dict[str, Any]:
    """status.json with the shapes its readers use: ``state`` a printable word, ``last_step`` an
    int, ``pid`` an int or None, ``error`` printable text or absent; ``{}`` when it is missing,
    unreadable, too big, not a regular file or not a JSON object."""
    status = read_json(Path(run_dir) / layout.STATUS)
    if status is None:
        return {}
    status["state"] = printable(status.get("state"), "unknown", 40)
    status["last_step"] = whole_number(status.get("last_step"))
    if "pid" in status:
        status["pid"] = whole_number(status["pid"], 0) or None
    error = status.get("error")
    if error is None or error == "":
        status.pop("error", None)
    else:
        status["error"] = shown(error, MAX_ERROR_CHARS)
    return status


def read_state(run_dir: str | Path) -> str:
    """running, finished, failed, interrupted, abandoned (or unknown: no readable status.json)."""
    return state_from_status(read_status(run_dir))


def state_from_status(status: dict[str, Any]) -> str:
    """The same decision as ``read_state``, for a status already read."""
    state = status.get("state")
    if state in END_STATES:
        return state
    if state in LIVE_STATES:
        return RUNNING if writer_alive(status) else ABANDONED
    return UNKNOWN


def writer_alive(status: dict[str, Any]) -> bool:
    """The process status.json names is alive, and is the same process (not a reused pid)."""
    pid = status.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if not pid_alive(pid):
        return False
    recorded = status.get("pid_start")
    if not isinstance(recorded, int) or isinstance(recorded, bool):
        return True  # written where start times are unknown (not Linux): the pid must do
    current = process_start_time(pid)
    return current is None or current == recorded


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but another user's
    except OSError:
        return False
    return True


def process_start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (Linux); None where that is unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of the whole line; fields[0] here is field 3
    except (IndexError, ValueError):
        return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
