"""A generator of hostile run and study folders, for property tests (``test_hostile_folders.py``)
and the longer hunt of ``make fuzz``.

A ``Damage`` is a list of edits applied to a copy of a real folder: a file cut short, bits
flipped, bytes that are not UTF-8, a file replaced by a FIFO, a folder, a link to a file outside
the folder or to another file inside it, a key of scenario.toml edited between a kill and its
resume. A sentinel folder beside the copy holds the files the links point at, so a test can
check that nothing outside the folder was written, cut or removed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

RUN_FILES = ("metrics.jsonl", "arrays.jsonl", "log.jsonl", "status.json", "meta.json", "summary.json", "scenario.toml", "checkpoint.pt")
STUDY_FILES = ("trials.jsonl", "study.toml", "summary.json", "table.csv", "axes.csv", ".study.json")
SCENARIO_EDITS = (
    ("checkpoint_every = 40", "checkpoint_every = 0"),
    ("checkpoint_every = 40\n", ""),
    ("lr = 0.001", "lr = 0.002"),
    ('description = "', 'description = "edited '),
)


@dataclass(frozen=True)
class Edit:
    kind: str  # truncate, flip, not_utf8, fifo, folder, link_out, link_in, scenario_key, remove
    target: str  # a file name inside the folder
    at: float = 0.5  # where in the file (a fraction of its length)
    bits: int = 1
    choice: int = 0

    def apply(self, folder: Path, outside: Path) -> None:
        path = folder / self.target
        if self.kind == "scenario_key":
            if path.is_file() and not path.is_symlink():
                old, new = SCENARIO_EDITS[self.choice % len(SCENARIO_EDITS)]
                path.write_text(path.read_text(encoding="utf-8", errors="replace").replace(old, new, 1))
            return
        if self.kind in ("truncate", "flip", "not_utf8"):
            if not path.is_file() or path.is_symlink():
                return
            data = bytearray(path.read_bytes())
            where = int(len(data) * self.at)
            if self.kind == "truncate":
                data = data[:where]
            elif self.kind == "flip" and data:
                for k in range(self.bits):
                    i = (where + 7919 * k) % len(data)
                    data[i] ^= 1 << (k % 8)
            else:
                data[where:where] = b"\xff\xfe\xc3\x28"
            path.write_bytes(bytes(data))
            return
        _remove(path)
        if self.kind == "fifo":
            os.mkfifo(path)
        elif self.kind == "folder":
            path.mkdir()
        elif self.kind == "link_out":
            victim = outside / f"victim-{self.target.replace('/', '_')}"
            victim.write_bytes(b"outside the folder: never written, cut or removed\n" * 50)
            path.symlink_to(victim)
        elif self.kind == "link_in":
            others = [f for f in RUN_FILES + STUDY_FILES if f != self.target and (folder / f).is_file()]
            if others:
                path.symlink_to(others[self.choice % len(others)])


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def edits(files: tuple[str, ...]) -> st.SearchStrategy[Edit]:
    return st.builds(
        Edit,
        kind=st.sampled_from(("truncate", "flip", "not_utf8", "fifo", "folder", "link_out", "link_in", "scenario_key", "remove")),
        target=st.sampled_from(files),
        at=st.floats(min_value=0.0, max_value=1.0),
        bits=st.integers(min_value=1, max_value=8),
        choice=st.integers(min_value=0, max_value=20),
    )


def damages(files: tuple[str, ...]) -> st.SearchStrategy[list[Edit]]:
    return st.lists(edits(files), min_size=1, max_size=3)


def snapshot_outside(outside: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outside.iterdir()) if p.is_file() and not p.is_symlink()}


def damaged_copy(source: Path, work: Path, damage: list[Edit]) -> tuple[Path, Path]:
    """A copy of ``source`` with ``damage`` applied, and the sentinel folder beside it."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    folder = Path(shutil.copytree(source, work / source.name, symlinks=True))
    outside = work / "outside"
    outside.mkdir()
    for edit in damage:
        edit.apply(folder, outside)
    return folder, outside
