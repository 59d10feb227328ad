"""A folder held by one process: a claim file made with ``O_EXCL`` that names its holder.

A run's resume and a study's scheduler each need one process at a time in a folder. The claim
names this process (pid and start time, as status.json does), so a claim left by a process
that died (killed, the machine rebooted) is taken over, while a live holder's is refused. Each
caller words its own refusal; this module only decides.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from plastilab.rundir import safe_files, state


class NotAClaim(Exception):
    """The claim's place holds something no process of ours wrote (a folder, a FIFO, a link)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Held(Exception):
    """A live process holds the claim."""

    def __init__(self, holder: dict) -> None:
        super().__init__(holder.get("pid"))
        self.holder = holder


def take(folder: Path, name: str) -> None:
    """Claim ``folder`` through its file ``name`` for this process, taking over a dead holder's
    claim; ``NotAClaim``, ``Held``, or the ``OSError`` of a folder that cannot be written."""
    for attempt in (1, 2):
        try:
            fd = os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o644)
            break
        except FileExistsError:
            kind = safe_files.kind_in(folder, name)
            if kind != "file":
                raise NotAClaim(kind) from None
            holder = holder_of(folder, name)
            if attempt == 1 and not state.writer_alive(holder):
                safe_files.unlink_in(folder, name)  # its process died: the folder is free
                continue
            raise Held(holder) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(state.this_process()))
    except BaseException:
        release(folder, name)
        raise


def release(folder: Path, name: str) -> None:
    safe_files.unlink_in(folder, name)


def holder_of(folder: Path, name: str) -> dict:
    """The process a claim names ({} when it names none that can be read)."""
    data = safe_files.read_in(folder, name, 4096)
    try:
        holder = json.loads(data) if data else {}
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}
