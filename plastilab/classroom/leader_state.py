"""Presenter mode's one file: the leader's view (run, pane, metric), in the watched folder.

The teacher's lab (``plastilab --lead``) or watcher (``plastilab watch RUNS_DIR --lead``) writes
it whenever its view changes; every follower (``watch --follow``, ``serve --ssh --follow``,
``serve --watch --follow``) reads it. A file, not a socket, because the folder is the one thing
the teacher and every kind of student already share, and a reader needs no server.

Written whole to a temporary name and renamed over the old one, so a reader sees the old view or
the new one, never half a file. Readers poll with ``os.stat`` (a rename changes the inode, a
rewrite the mtime): one system call per poll until the view changes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

LEADER_FILE = ".plastilab-leader.json"
MAX_BYTES = 4096  # a view is a few names; anything bigger is not ours


@dataclass(frozen=True)
class LeaderView:
    run: str | None  # the run folder shown, relative to the watched folder; None: the runs list
    pane: str | None  # the dashboard's active pane (tab id)
    metric: str | None  # the metric the curves show

    def to_json(self) -> str:
        return json.dumps({"run": self.run, "pane": self.pane, "metric": self.metric})


def leader_path(runs_dir: Path) -> Path:
    return Path(runs_dir) / LEADER_FILE


def write_view(runs_dir: Path, view: LeaderView) -> None:
    """Replace the leader file atomically (a temporary file renamed over it)."""
    path = leader_path(runs_dir)
    temporary = path.with_name(f"{LEADER_FILE}.{os.getpid()}.tmp")
    temporary.write_text(view.to_json(), encoding="utf-8")
    os.replace(temporary, path)


def remove_view(runs_dir: Path) -> None:
    """The leader left: followers stay where they are."""
    try:
        leader_path(runs_dir).unlink()
    except OSError:
        pass


def parse_view(text: str) -> LeaderView | None:
    """The view in ``text``, or None for anything that is not one (a follower ignores it)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    fields = [data.get(key) for key in ("run", "pane", "metric")]
    if not all(value is None or (isinstance(value, str) and len(value) <= 1000) for value in fields):
        return None
    return LeaderView(*fields)


class LeaderFileWatcher:
    """Stat-based polling of the leader file: ``poll()`` returns a new view when the file changed."""

    def __init__(self, runs_dir: Path) -> None:
        self.path = leader_path(runs_dir)
        self._seen: tuple | None = None
        self.view: LeaderView | None = None

    def poll(self) -> LeaderView | None:
        """The view if the file changed since the last poll (None when unchanged or unreadable)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            self._seen = None
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key == self._seen:
            return None
        self._seen = key
        if stat.st_size > MAX_BYTES:
            return None
        try:
            view = parse_view(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
        if view is not None:
            self.view = view
        return view
