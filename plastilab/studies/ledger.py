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

from plastilab.studies.folder import LEDGER

DONE = "finished"
RERUN = ("failed", "interrupted", "abandoned", "pending")


class Ledger:
    def __init__(self, study_dir: str | Path) -> None:
        self.study_dir = Path(study_dir)
        self.path = self.study_dir / LEDGER
        self.latest: dict[str, dict[str, Any]] = read_ledger(self.path)
        self._file = open(self.path, "a", encoding="utf-8")

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


def read_ledger(path: str | Path) -> dict[str, dict[str, Any]]:
    """Each trial's last entry, in first-seen order."""
    latest: dict[str, dict[str, Any]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return latest
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a partial last line from a killed study
        if isinstance(entry, dict) and isinstance(entry.get("trial"), str):
            latest[entry["trial"]] = entry
    return latest
