"""Where a study's files live.

runs/<study>/<YYYYmmdd-HHMMSS>-<short id>/
    study.toml          the study as resolved: base inlined, --set applied (resume reads this)
    .study.json         the same, recorded when the folder is made (resume_check compares them)
    trials.jsonl        the ledger: one line per change of a trial's state; the last line wins
    trials/<study>.<trial>/<stamp>-<id>/   one ordinary run folder per attempt at a trial
    checkpoints/<trial>.json               the trial's numbers at its checkpoints (for aggregation)
    table.csv (.parquet)  tidy: one row per trial, series and checkpoint
    correlations.csv    falsification: each statistic against plasticity loss, every checkpoint
    correlations_last.csv  the same across trials at their last checkpoint only
    scaling.csv         scaling: plasticity and final loss per x value, mean ± CI over seeds
    axes.csv            per axis value, mean ± CI of each headline tag
    summary.json        all of the above that fits in JSON, plus the study's counts
"""

from __future__ import annotations

import json
from pathlib import Path

import tomli_w

from plastilab.core.errors import ScenarioError
from plastilab.rundir import safe_files
from plastilab.rundir.layout import new_run_dir

STUDY_FILE = "study.toml"
LEDGER = "trials.jsonl"
TRIALS_DIR = "trials"
CHECKPOINTS_DIR = "checkpoints"
TABLE_CSV = "table.csv"
TABLE_PARQUET = "table.parquet"
CORRELATIONS = "correlations.csv"
CORRELATIONS_LAST = "correlations_last.csv"
SCALING = "scaling.csv"
AXES = "axes.csv"
SUMMARY = "summary.json"
RECORD = ".study.json"  # hidden: nobody edits it by hand


def new_study_dir(study, out: str | Path | None) -> Path:
    try:
        path = new_run_dir(study.name, out)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create a study folder there ({exc.strerror or exc}); choose another folder") from None
    resolved = study.resolved()
    safe_files.write_new_in(path, STUDY_FILE, tomli_w.dumps(resolved).encode("utf-8"))
    # What a resume compares study.toml with (studies/resume_check.py).
    safe_files.write_new_in(path, RECORD, json.dumps(resolved, sort_keys=True).encode("utf-8"))
    return path


def is_study_dir(path: str | Path) -> bool:
    return safe_files.kind_in(path, STUDY_FILE) == "file" and safe_files.kind_in(path, LEDGER) != "missing"
