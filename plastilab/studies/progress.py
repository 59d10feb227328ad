"""The study's progress on stderr: one line (rewritten in place on a terminal, every 10 s otherwise).

    falsification-quick  done 5/16  running 2  failed 0  ETA 6m10s  | t005 4200/12000  t006 800/12000
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from plastilab.rundir import layout, safe_files

PLAIN_PERIOD_S = 10.0


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def trial_step(trial_root: Path, since: float) -> int | None:
    """The last step of the newest run folder under ``trial_root`` started after ``since``."""
    try:
        folders = sorted((p for p in trial_root.iterdir() if p.is_dir()), key=lambda p: p.name)
    except OSError:
        return None
    for folder in reversed(folders):
        try:
            if folder.stat().st_mtime + 1 < since:
                return None
            return int(safe_files.read_json(folder / layout.STATUS, 1 << 16).get("last_step", 0))
        except (OSError, ValueError, AttributeError):
            continue
    return None


class StudyProgress:
    def __init__(self, name: str, total: int, quiet: bool = False, stream=None) -> None:
        self.name, self.total, self.quiet = name, total, quiet
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._printed = 0.0
        self._width = 0

    def update(self, done: int, running: list[tuple[str, int | None, int]], failed: int, eta: float | None, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not self.live and not force and now - self._printed < PLAIN_PERIOD_S:
            return
        self._printed = now
        line = f"{self.name}  done {done}/{self.total}  running {len(running)}  failed {failed}"
        line += f"  ETA {format_seconds(eta)}" if eta is not None else "  ETA ?"
        steps = "  ".join(f"{tid} {step if step is not None else 0}/{total}" for tid, step, total in running[:4])
        if steps:
            line += "  | " + steps + ("  …" if len(running) > 4 else "")
        if self.live:
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live and not self.quiet and self._width:
            self.stream.write("\n")
            self.stream.flush()
