"""The one way into a run or study folder: regular files only, inside the folder, never through a
symbolic link, never blocking, never more than a stated size.

A run folder may be damaged, hand-edited or hostile: ``metrics.jsonl`` a directory, a FIFO
where ``status.json`` should be (``open`` would wait forever), ``arrays/`` a link to another
folder, ``metrics.jsonl`` a link to a file elsewhere (a resume truncating it would cut that
file), an arrays line naming ``/etc/passwd`` or ``../../elsewhere.npz``. Every reader and writer
of a folder's files goes through these functions: each path is walked one component at a time
from the folder with ``O_NOFOLLOW``, so a link anywhere below the folder is refused, and the
file is opened ``O_NONBLOCK`` and checked to be regular after opening (a file swapped for a FIFO
at the last moment is refused, not waited on). The folder itself may be reached through a link:
that one a person chose.

``tests/test_safe_folder_access.py`` fails on a plain ``open()`` of a folder's file in the
modules that read or write run and study folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class Refused(OSError):
    """The path is not a regular file inside the folder reached without a link."""


def _parts(relative: str | Path) -> tuple[str, ...] | None:
    text = str(relative)
    if not text or "\x00" in text:
        return None
    rel = Path(text)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return None
    return tuple(p for p in rel.parts if p != ".")


@contextlib.contextmanager
def _parent_fd(root: str | Path, parts: tuple[str, ...], make: bool = False) -> Iterator[int]:
    """A descriptor of the folder holding ``parts[-1]``, walked from ``root`` without following
    a link (``make``: missing folders are created on the way)."""
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not make:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def open_fd_in(root: str | Path, relative: str | Path, flags: int = os.O_RDONLY, mode: int = 0o644, make_dirs: bool = False) -> int:
    """A descriptor of ``root/relative`` opened with ``flags``, refused (``Refused``) unless it is
    a regular file inside ``root`` reached without a link. Raises ``OSError``."""
    parts = _parts(relative)
    if parts is None:
        raise Refused(f"{relative}: not a plain relative path inside the folder")
    with _parent_fd(root, parts, make=make_dirs) as parent:
        try:
            fd = os.open(parts[-1], flags | _NOFOLLOW | _NONBLOCK | _CLOEXEC, mode, dir_fd=parent)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP: the file is a link
                raise Refused(f"{relative}: a symbolic link; a folder's files are never read or written through one") from None
            raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused(f"{relative}: not a regular file (a folder, a pipe, a socket or a device?)")
        if flags & (os.O_WRONLY | os.O_RDWR):
            os.set_blocking(fd, True)  # writes to a regular file: the flag only mattered for opening
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_in(root: str | Path, relative: str | Path) -> BinaryIO | None:
    """``root/relative`` opened for binary reading, or None (missing, refused, unreadable)."""
    try:
        return os.fdopen(open_fd_in(root, relative), "rb")
    except (OSError, ValueError):
        return None


def read_in(root: str | Path, relative: str | Path, max_bytes: int) -> bytes | None:
    """The bytes of ``root/relative`` when it is a regular file inside ``root`` no bigger than
    ``max_bytes``; None otherwise."""
    f = open_in(root, relative)
    if f is None:
        return None
    with f:
        try:
            data = f.read(max_bytes + 1)
        except OSError:
            return None
    return data if len(data) <= max_bytes else None


def decode(data: bytes) -> tuple[str, int]:
    """``data`` as UTF-8 text with each undecodable byte replaced; also how many were."""
    text = data.decode("utf-8", errors="replace")
    skipped = 0 if "\ufffd" not in text else text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    return text, skipped


def append_in(root: str | Path, relative: str | Path, encoding: str = "utf-8"):
    """``root/relative`` opened for appending text (created when missing); raises ``OSError``
    (``Refused`` for a link or a special file)."""
    fd = open_fd_in(root, relative, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    return os.fdopen(fd, "a", encoding=encoding)


def create_in(root: str | Path, relative: str | Path, make_dirs: bool = False) -> BinaryIO:
    """``root/relative`` made afresh and opened for binary writing: whatever was there (a file,
    a link planted in its place) is removed first, never written through. Raises ``OSError``."""
    if kind_in(root, relative) == "folder":  # never removed: say what is in the way
        raise IsADirectoryError(21, "Is a directory", str(Path(root) / relative))
    unlink_in(root, relative)
    fd = open_fd_in(root, relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, make_dirs=make_dirs)
    return os.fdopen(fd, "wb")


def write_new_in(root: str | Path, relative: str | Path, data: bytes, make_dirs: bool = False) -> None:
    """Write ``data`` to a fresh ``root/relative`` (``create_in``): for a temporary file before
    a rename, which replaces a link in the target's place rather than following it."""
    with create_in(root, relative, make_dirs=make_dirs) as f:
        f.write(data)


def truncate_in(root: str | Path, relative: str | Path, size: int) -> bool:
    """Cut ``root/relative`` to ``size`` bytes; False when it is missing or refused."""
    try:
        fd = open_fd_in(root, relative, os.O_WRONLY)
    except OSError:
        return False
    try:
        os.ftruncate(fd, size)
        return True
    finally:
        os.close(fd)


def unlink_in(root: str | Path, relative: str | Path) -> bool:
    """Remove the file ``root/relative`` (a link there is removed itself, never its target; a
    link on the way is refused); False when nothing was removed."""
    parts = _parts(relative)
    if parts is None:
        return False
    try:
        with _parent_fd(root, parts) as parent:
            if stat.S_ISDIR(os.stat(parts[-1], dir_fd=parent, follow_symlinks=False).st_mode):
                return False
            os.unlink(parts[-1], dir_fd=parent)
        return True
    except OSError:
        return False


def kind_in(root: str | Path, relative: str | Path) -> str:
    """What ``root/relative`` is, without following a link: "missing", "file", "link",
    "folder", "special" (a FIFO, a socket, a device), or "refused" (a link on the way)."""
    parts = _parts(relative)
    if parts is None:
        return "refused"
    try:
        with _parent_fd(root, parts) as parent:
            mode = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "refused"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


def size_in(root: str | Path, relative: str | Path) -> int:
    """The size of the regular file ``root/relative`` (0 when missing or refused)."""
    try:
        fd = open_fd_in(root, relative)
    except OSError:
        return 0
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


# -- for readers given one path (a folder's file by its full name) ------------------------------
def open_regular(path: str | Path) -> BinaryIO | None:
    """``path`` opened for binary reading if it is a regular file and not a link, else None
    (missing, a link, a directory, a FIFO, a socket, a device, unreadable); never blocks."""
    path = Path(path)
    return open_in(path.parent, path.name)


def read_small(path: str | Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file (not a link) no bigger than ``max_bytes``; None otherwise."""
    path = Path(path)
    return read_in(path.parent, path.name, max_bytes)


def inside(run_dir: str | Path, relative: object) -> Path | None:
    """``run_dir / relative`` if ``relative`` is a plain relative path that stays inside the
    folder with no link on the way; None for an absolute path, a ``..`` escape, a NUL, a link,
    a non-string."""
    if not isinstance(relative, str) or _parts(relative) is None:
        return None
    if kind_in(run_dir, relative) in ("link", "refused"):
        return None
    return Path(run_dir) / relative


__all__ = [
    "Refused",
    "append_in",
    "decode",
    "inside",
    "kind_in",
    "open_fd_in",
    "open_in",
    "open_regular",
    "read_in",
    "read_small",
    "create_in",
    "size_in",
    "truncate_in",
    "unlink_in",
    "write_new_in",
]


def read_text(path: str | Path, max_bytes: int = 64 << 20) -> str | None:
    """A folder's file given by its full name, as text (each undecodable byte replaced); None
    when it is missing, a link, not a regular file, unreadable or bigger than ``max_bytes``."""
    data = read_small(path, max_bytes)
    return None if data is None else decode(data)[0]


def read_json(path: str | Path, max_bytes: int = 64 << 20):
    """A folder's JSON file given by its full name (``read_text``), parsed; None when it cannot
    be read or is not JSON."""
    text = read_text(path, max_bytes)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
