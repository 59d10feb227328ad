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
"""

from __future__ import annotations

import re
import secrets
import time
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

DEFAULT_RUNS_ROOT = Path("runs")


def new_run_dir(scenario_name: str, root: str | Path | None = None) -> Path:
    """A fresh, empty folder for one run of ``scenario_name``."""
    root = Path(root) if root is not None else DEFAULT_RUNS_ROOT
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / safe_name(scenario_name) / f"{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True, exist_ok=False)
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
    found = [p.parent for p in root.glob("**/" + STATUS)]
    return sorted(found, key=lambda p: p.name, reverse=True)
