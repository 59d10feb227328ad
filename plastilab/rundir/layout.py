"""Where a run's files live, and their names.

runs/<scenario>/<YYYYmmdd-HHMMSS>-<short id>/
    scenario.toml   the resolved scenario, overrides applied
    meta.json       versions, device, seed, command line
    metrics.jsonl   one scalar a line: {"step", "series", "tag", "value", "wall_time"}
    arrays.jsonl    one array payload a line, pointing at its .npz under arrays/
    log.jsonl       warnings and errors the run reported
    status.json     state (running / finished / failed / interrupted), last step, error
    summary.json    per-series final values and per-task final losses
    error.txt       the traceback, when a bug (not bad input) ended the run
    checkpoint.pt   with checkpoint_every: the latest checkpoint (``runtime.checkpoint_save``)

A run folder appears whole: it is made under a hidden name (``.<stamp>-<id>.partial``), its
first status.json written there, then renamed into place. A process killed half-way leaves at
most a hidden ``.partial`` folder, which no list of runs shows.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

SCENARIO = "scenario.toml"
META = "meta.json"
METRICS = "metrics.jsonl"
ARRAYS = "arrays.jsonl"
ARRAYS_DIR = "arrays"
LOG = "log.jsonl"
STATUS = "status.json"
SUMMARY = "summary.json"
ERROR = "error.txt"
CHECKPOINT = "checkpoint.pt"

PARTIAL = ".partial"

DEFAULT_RUNS_ROOT = Path("runs")


def new_run_dir(scenario_name: str, root: str | Path | None = None, prepare: Callable[[Path], None] | None = None) -> Path:
    """A fresh folder for one run of ``scenario_name``: empty, or, with ``prepare``, holding what
    ``prepare(folder)`` wrote before the folder took its name (the launcher writes status.json)."""
    root = Path(root) if root is not None else DEFAULT_RUNS_ROOT
    parent = root / safe_name(scenario_name)
    while True:
        path = parent / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        if not path.exists():
            break
    if prepare is None:
        path.mkdir(parents=True, exist_ok=False)
        return path
    partial = parent / f".{path.name}{PARTIAL}"
    partial.mkdir(parents=True, exist_ok=False)
    try:
        prepare(partial)
        os.rename(partial, path)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return path


def safe_name(text: str) -> str:
    """``text`` made safe as one path component (tags such as ``hessian/density``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "_"


def is_run_dir(path: Path) -> bool:
    return (path / STATUS).is_file() or (path / METRICS).is_file()


def find_run_dirs(root: str | Path) -> list[Path]:
    """Every run folder under ``root`` (or ``root`` itself), newest first."""
    root = Path(root)
    if is_run_dir(root):
        return [root]
    found = [p.parent for p in root.glob("**/" + STATUS) if not p.parent.name.startswith(".")]  # .partial: still being made
    return sorted(found, key=lambda p: p.name, reverse=True)
