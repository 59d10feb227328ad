"""The runs list at a cost proportional to what changed.

``plastilab watch`` over a folder of runs, ``serve --watch`` and the lab's ``g`` list the runs
every few seconds. Reading every run's small files each time cost 98% of a core over 3,000 runs
(and walked every ``arrays/`` folder below them). Here a folder's listing is kept until its
modification time changes, and a run's line until its folder's does: every file a run rewrites
(status.json, summary.json, meta.json, scenario.toml) is replaced by a rename, which changes the
folder's time, and metrics.jsonl, the one file appended to, is not read for the list. An idle
poll is then one ``stat`` per folder. A line that says a run is running is checked against its
writer's process each time (no file read): a writer that died makes it abandoned at once.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plastilab.rundir import layout

_LOCK = threading.Lock()  # several viewers (serve --watch) share one process and its caches
_DIRS: dict[str, tuple[int, tuple[str, ...], str]] = {}  # folder -> (mtime_ns, subfolders, "run" | "study" | "")
_STUDY_FILES = {"trials.jsonl", "study.toml"}  # studies.folder's names (rundir imports nothing of studies)
_LINES: dict[str, tuple[int, Any]] = {}  # run or study folder -> (mtime_ns, its line)
MAX_ENTRIES = 200_000  # a bound on the caches: past it they start again
# File times tick coarsely (a few ms): a folder changed twice within one tick keeps its time. A
# folder changed this recently is read afresh each time, never cached (a running run, whose
# status.json is rewritten every second, always is).
SETTLED_NS = 2_000_000_000


def _settled(mtime: int) -> bool:
    return time.time_ns() - mtime > SETTLED_NS


def _mtime(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns if stat.S_ISDIR(st.st_mode) else None


def _listing(path: str, mtime: int) -> tuple[tuple[str, ...], str]:
    cached = _DIRS.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1], cached[2]
    subfolders: list[str] = []
    files: set[str] = set()
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name in (layout.STATUS, layout.METRICS, *_STUDY_FILES):
                    if entry.name == "trials.jsonl" or entry.is_file(follow_symlinks=False):
                        files.add(entry.name)
                elif not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
    except OSError:
        pass
    what = "study" if _STUDY_FILES <= files else "run" if files & {layout.STATUS, layout.METRICS} else ""
    if len(_DIRS) > MAX_ENTRIES:
        _DIRS.clear()
    if _settled(mtime):
        _DIRS[path] = (mtime, tuple(subfolders), what)
    return tuple(subfolders), what


def folders(root: str | Path) -> tuple[list[Path], list[Path]]:
    """(run folders, study folders) under ``root`` (or ``root`` itself), each newest first, as
    the runs list shows them: never descending into a run folder (its arrays/) nor a study
    folder (its trials are opened from the study view), never rereading an unchanged folder."""
    runs: list[Path] = []
    studies: list[Path] = []
    with _LOCK:
        stack = [str(root)]
        while stack:
            path = stack.pop()
            mtime = _mtime(path)
            if mtime is None:
                continue
            subfolders, what = _listing(path, mtime)
            if what:
                (studies if what == "study" else runs).append(Path(path))
                continue
            stack.extend(os.path.join(path, name) for name in subfolders)
    newest = lambda p: p.name  # noqa: E731 - folders are named by their start time
    return sorted(runs, key=newest, reverse=True), sorted(studies, key=newest, reverse=True)


def run_folders(root: str | Path) -> list[Path]:
    """Every run folder under ``root`` that is not inside a study folder, newest first."""
    return folders(root)[0]


def line_of(path: Path, read: Callable[[Path], Any], still_true: Callable[[Any], Any] | None = None) -> Any:
    """``read(path)``, reused while the folder's modification time is unchanged; ``still_true``
    refreshes a reused line whose truth depends on more than the files (a live writer)."""
    key = str(path)
    mtime = _mtime(key)
    with _LOCK:
        cached = _LINES.get(key)
    if cached is not None and mtime is not None and cached[0] == mtime:
        return still_true(cached[1]) if still_true is not None else cached[1]
    line = read(path)
    if mtime is not None and _settled(mtime):
        with _LOCK:
            if len(_LINES) > MAX_ENTRIES:
                _LINES.clear()
            _LINES[key] = (mtime, line)
    return line


def forget() -> None:
    """Drop every cached listing and line (tests; a folder remounted elsewhere)."""
    with _LOCK:
        _DIRS.clear()
        _LINES.clear()
