"""Opening a run folder's files without trusting them: regular files only, never blocking,
never outside the folder, never more than a stated size.

A run folder may be damaged, hand-edited or hostile: ``metrics.jsonl`` a directory, a FIFO
where ``status.json`` should be (``open`` would wait forever), an arrays line naming
``/etc/passwd`` or ``../../elsewhere.npz``. Every reader goes through these two functions.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def open_regular(path: str | Path) -> BinaryIO | None:
    """``path`` opened for binary reading if it is a regular file, else None (missing, a
    directory, a FIFO, a socket, a device, unreadable). Opened non-blocking and checked after
    opening, so a file swapped for a FIFO at the last moment is refused, not waited on."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return os.fdopen(fd, "rb")
    except OSError:
        os.close(fd)
        return None


def read_small(path: str | Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file no bigger than ``max_bytes``; None otherwise."""
    f = open_regular(path)
    if f is None:
        return None
    with f:
        try:
            data = f.read(max_bytes + 1)
        except OSError:
            return None
    return data if len(data) <= max_bytes else None


def inside(run_dir: str | Path, relative: object) -> Path | None:
    """``run_dir / relative`` if ``relative`` is a plain relative path that stays inside the
    folder once symbolic links are followed; None for an absolute path, a ``..`` escape, a NUL,
    a non-string."""
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        return None
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        return None
    root = Path(run_dir)
    try:
        resolved = (root / rel).resolve()
        if not resolved.is_relative_to(root.resolve()):
            return None
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
        return None
    return root / rel
