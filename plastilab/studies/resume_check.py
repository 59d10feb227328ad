"""Does a study folder still hold the study it started as? ``--resume`` reads study.toml from the
folder; one edited since (an axis changed) ran its remaining trials at the new values while the
ledger, checkpoints/ and axes.csv kept the old ones. So a study folder records the resolved study
when it is made (``folder.RECORD``, ``.study.json``) and a resume compares it with
study.toml key by key; the ledger's per-trial overrides are compared too (they predate the
record, so older folders are checked as well). A difference is refused in one line naming the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.rundir import safe_files
from plastilab.runtime.checkpoint_match import difference
from plastilab.studies.folder import RECORD, STUDY_FILE

def study_change(study_dir: Path, resolved: dict[str, Any], trials: list, ledger: dict[str, dict[str, Any]]) -> str | None:
    """Why ``resolved`` (read from the folder's study.toml now) and its ``trials`` are not the
    study the folder started as, in one line; None when they are."""
    path = study_dir / STUDY_FILE
    fix = f"put it back as it was to resume, or start a new study with `plastilab run {path}`"
    data = safe_files.read_in(study_dir, RECORD, 64 << 20)
    if data is not None:
        try:
            then = json.loads(data)
        except ValueError:
            then = None
        now = json.loads(json.dumps(resolved, sort_keys=True))
        if isinstance(then, dict) and then != now:
            key, old, new = difference(then, now)
            return f"{path}: changed since the study started ({key}: {old} then, {new} now); {fix}"
    ids = {trial.id: trial for trial in trials}
    for trial_id, entry in ledger.items():
        recorded = entry.get("overrides")
        if trial_id not in ids:
            return f"{path}: changed since the study started (trial {trial_id} is in the ledger but no longer in the study); {fix}"
        if isinstance(recorded, dict):
            now = json.loads(json.dumps(ids[trial_id].overrides))
            if recorded != now:
                key, old, new = difference(recorded, now)
                return f"{path}: changed since the study started (trial {trial_id}: {key}: {old} then, {new} now); {fix}"
    return None


def check_resumable(study_dir: Path, study, ledger: dict[str, dict[str, Any]]) -> None:
    why = study_change(study_dir, study.resolved(), study.trials, ledger)
    if why is not None:
        raise ScenarioError(why)
