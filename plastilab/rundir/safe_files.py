"""Opening a run folder's files without trusting them: regular files only, never blocking,
never outside the folder, never more than a stated size.

A run folder may be damaged, hand-edited or hostile: ``metrics.jsonl`` a directory, a FIFO
where ``status.json`` should be (``open`` would wait forever), an arrays line naming
``/etc/passwd`` or ``../../elsewhere.npz``. Every reader goes through these functions (and
``core.regular_files`` below them).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from plastilab.core import regular_files


def open_regular(path: str | Path) -> BinaryIO | None:
    """``path`` opened for binary reading if it is a regular file, else None (missing, a
    directory, a FIFO, a socket, a device, unreadable); never blocks."""
    try:
        return regular_files.open_regular(path)
    except (OSError, ValueError):
        return None


def read_small(path: str | Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file no bigger than ``max_bytes``; None otherwise."""
    try:
        return regular_files.read_regular(path, max_bytes)
    except (OSError, ValueError):
        return None


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
