"""What a resume checks in a run folder before it touches anything: that no entry it reads,
writes, cuts or removes is a link or a special file (a cut metrics.jsonl linked elsewhere would
cut that file; opening a FIFO waits forever), and that the checkpoint's zip is whole, every member
matching the CRC-32 written beside it (torch.load checks none: a flipped bit was resumed from)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from plastilab.runtime.checkpoint_save import DATA_FILES
from plastilab.rundir import layout, safe_files

RESUME_LOCK = ".resuming"  # held from "can it be resumed?" to "it runs, in this process"

KIND_WORDS = {"link": "a symbolic link", "folder": "a folder", "special": "a pipe, socket or device", "refused": "unreachable"}
# Every entry a resume reads, writes, cuts or removes: none may be a link (a cut metrics.jsonl
# would cut the file it points at) or a special file (opening a FIFO waits forever).
_ENTRIES = (*DATA_FILES, layout.STATUS, layout.SCENARIO, layout.META, layout.SUMMARY, layout.ERROR, layout.CHECKPOINT, layout.CHECKPOINT + ".tmp")


def unsafe_entry(run_dir: Path) -> str | None:
    """Why one of the folder's entries makes it unsafe to resume (a link, a special file), in
    one line; None when none does."""
    for name in (*_ENTRIES, layout.ARRAYS_DIR, RESUME_LOCK):
        kind = safe_files.kind_in(run_dir, name)
        allowed = ("missing", "folder") if name == layout.ARRAYS_DIR else ("missing", "file")
        if kind not in allowed:
            return (
                f"{run_dir / name}: {KIND_WORDS.get(kind, kind)} where a run folder has a "
                f"{'folder' if name == layout.ARRAYS_DIR else 'regular file'}; resume never writes through one: "
                f"replace it with the run's own {name}, or start the run again with `plastilab run {run_dir / layout.SCENARIO}`"
            )
    return None


def zip_damage(data: io.BytesIO) -> str | None:
    """What is wrong with the zip torch.save wrote, in words: not a zip at all (cut short,
    overwritten), or a member whose bytes no longer match the CRC-32 written beside them (a
    flipped bit, bytes overwritten in place); None when every member checks."""
    try:
        with zipfile.ZipFile(data) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        return f"cut short or overwritten: not a file torch.save wrote ({type(exc).__name__})"
    finally:
        data.seek(0)
    return None if bad is None else f"{bad} fails its CRC check: its bytes changed since it was written"
