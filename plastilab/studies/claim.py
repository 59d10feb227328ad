"""One scheduler per study folder: the claim a scheduling process holds for a study's length.

A run folder has one writer (status.json names it); a study folder had none, so
``plastilab run --resume STUDY_DIR`` on a study that was still running was accepted, and the
second scheduler marked the first one's live trials ``abandoned`` and ran them again. The claim
is a file made with ``O_EXCL`` that names this process (pid and start time, as status.json does):
a second scheduler meets it and is refused in one line; a claim left by a process that died
(killed, the machine rebooted) is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.rundir import safe_files, state

CLAIM = ".scheduling"


@contextlib.contextmanager
def study_claim(study_dir: Path) -> Iterator[None]:
    """Hold ``study_dir`` for this process; a one-line ``ScenarioError`` when a live process
    holds it, or when the claim's place holds something no scheduler wrote."""
    path = study_dir / CLAIM
    for attempt in (1, 2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o644)
            break
        except FileExistsError:
            kind = safe_files.kind_in(study_dir, CLAIM)
            if kind != "file":
                raise ScenarioError(f"{path}: {kind}, not a claim plastilab writes; remove it and run again") from None
            holder = _holder(study_dir)
            if attempt == 1 and not state.writer_alive(holder):
                safe_files.unlink_in(study_dir, CLAIM)  # its scheduler died: the study is free
                continue
            raise ScenarioError(
                f"{study_dir}: another process (pid {holder.get('pid', '?')}) is running this study right now; "
                f"wait for it, or stop it (Ctrl-C there) and resume again"
            ) from None
        except OSError as exc:
            raise ScenarioError(f"{study_dir}: cannot run the study there ({exc.strerror or exc}); make the folder writable") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(state.this_process()))
        yield
    finally:
        safe_files.unlink_in(study_dir, CLAIM)


def _holder(study_dir: Path) -> dict:
    data = safe_files.read_in(study_dir, CLAIM, 4096)
    try:
        holder = json.loads(data) if data else {}
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}
