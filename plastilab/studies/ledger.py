"""The study's ledger, trials.jsonl: what happened to every trial, appended as it happens.

Only the process that schedules the study writes it, one complete line per change, flushed at
once, so a killed study leaves at most a partial last line (skipped on reading). A trial's state
is its last line: pending, running, finished, failed, interrupted or abandoned (its scheduler
died while it ran).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.rundir import safe_files
from plastilab.studies.folder import LEDGER

DONE = "finished"
RERUN = ("failed", "interrupted", "abandoned", "pending")


class Ledger:
    def __init__(self, study_dir: str | Path) -> None:
        self.study_dir = Path(study_dir)
        self.path = self.study_dir / LEDGER
        kind = safe_files.kind_in(self.study_dir, LEDGER)
        if kind not in ("file", "missing"):
            raise ScenarioError(f"{self.path}: {kind}, not the study's ledger (a regular file); put the study's own {LEDGER} back")
        self.latest: dict[str, dict[str, Any]] = read_ledger(self.path)
        try:
            self._file = safe_files.append_in(self.study_dir, LEDGER)  # never through a link, never a FIFO
        except OSError as exc:
            raise ScenarioError(f"{self.path}: cannot write the ledger ({exc.strerror or exc}); make the study folder writable") from None

    def record(self, trial_id: str, state: str, **fields: Any) -> dict[str, Any]:
        entry = {**self.latest.get(trial_id, {}), "trial": trial_id, "state": state, **fields, "time": round(time.time(), 3)}
        self.latest[trial_id] = entry
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        return entry

    def state(self, trial_id: str) -> str:
        return self.latest.get(trial_id, {}).get("state", "pending")

    def close(self) -> None:
        self._file.close()


MAX_LEDGER_BYTES = 256 << 20


def read_ledger(path: str | Path) -> dict[str, dict[str, Any]]:
    """Each trial's last entry, in first-seen order."""
    return read_ledger_counted(path)[0]


def read_ledger_counted(path: str | Path) -> tuple[dict[str, dict[str, Any]], int]:
    """Each trial's last entry, in first-seen order, and how many lines were skipped (not JSON,
    undecodable, not a trial's entry). A ledger that is not a regular file in its folder (a
    FIFO, a folder, a link) reads as empty."""
    latest: dict[str, dict[str, Any]] = {}
    path = Path(path)
    data = safe_files.read_in(path.parent, path.name, MAX_LEDGER_BYTES)
    if data is None:
        return latest, 0
    skipped = 0
    for raw in data.splitlines():
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            skipped += bool(raw.strip())  # a partial last line from a killed study, or damage
            continue
        if isinstance(entry, dict) and isinstance(entry.get("trial"), str):
            latest[entry["trial"]] = entry
        else:
            skipped += 1
    return latest, skipped
