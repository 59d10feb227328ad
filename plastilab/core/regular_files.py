"""Opening a file named by a person or a file without trusting it: a regular file only, opened
without blocking, of a bounded size.

``open()`` on a FIFO waits for a writer forever, and on a directory raises; a huge file read
whole exhausts memory. Every reader of scenario files goes through here (a run folder's files: ``rundir.safe_files``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotRegularFile(ValueError):
    """The path is a directory, a FIFO, a socket or a device."""


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (a link to one is followed: a person
    may name a scenario through a link). Opened non-blocking and checked after opening, so a file
    swapped for a FIFO at the last moment is refused, not waited on. Raises ``NotRegularFile``,
    ``ValueError`` (too big, saying how big) or ``OSError``. A run folder's files, which no link may
    lead out of, are read by ``rundir.safe_files`` instead."""
    fd = os.open(path, _FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile("not a regular file (a folder, a pipe, a socket or a device?)")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ValueError(f"{size:,} bytes; at most {max_bytes:,} are read")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"more than {max_bytes:,} bytes; at most {max_bytes:,} are read")
    return data
