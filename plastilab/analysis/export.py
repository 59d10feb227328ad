"""``plastilab export``: a run or a study folder to TensorBoard, CSV or Parquet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from plastilab.analysis.errors import AnalysisError, require
from plastilab.analysis.export_tables import export_run_table, export_study_table
from plastilab.analysis.export_tensorboard import export_run_tensorboard, export_study_tensorboard
from plastilab.analysis.runs import load_run
from plastilab.analysis.studies import is_study_dir, load_study
from plastilab.core.safe_text import shown
from plastilab.rundir import layout

FORMATS = ("tensorboard", "csv", "parquet")


def check_source(path: Path) -> str:
    """"study" or "run"; anything else is a one-line error."""
    if is_study_dir(path):
        return "study"
    if layout.is_run_dir(path):
        return "run"
    if not path.exists():
        raise AnalysisError(f"{path}: no such folder; give a run folder or a study folder")
    raise AnalysisError(f"{path}: not a run folder or a study folder (no status.json, metrics.jsonl or trials.jsonl)")


def export(source: str | Path, to: str, out: str | Path, warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``source`` (a run or a study folder) into ``out`` as ``to``; returns what was written.
    ``warn`` hears, in one line each, what the export leaves out (no readable metrics: empty tables)."""
    source, out = Path(source), Path(out)
    if to not in FORMATS:
        raise AnalysisError(f"--to {to}: unknown format; allowed: {', '.join(FORMATS)}")
    what = check_source(source)
    if out.exists() and not out.is_dir():
        raise AnalysisError(f"{out}: is a file; give a folder to export into")
    if to == "parquet":
        require("pyarrow", "parquet", "export --to parquet")  # before any reading
    try:  # every format writes into it: a folder that cannot be made is one line, before any reading
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalysisError(f"{shown(out)}: cannot create the folder to export into ({exc.strerror or exc}); choose another folder") from None
    try:
        return _export(source, what, to, out, warn or (lambda line: None))
    except OSError as exc:  # the disk filled, a file in the way
        where = shown(exc.filename) if exc.filename else shown(out)
        raise AnalysisError(f"{where}: cannot write the export ({exc.strerror or exc}); free some space or choose another folder") from None


def _export(source: Path, what: str, to: str, out: Path, warn: Callable[[str], None]) -> list[Path]:
    loaded = load_study(source) if what == "study" else load_run(source)
    rows = len(loaded.trials) if what == "study" else len(loaded.scalars)
    if not rows:  # say so: an empty table written silently reads as "this run measured nothing"
        found = "no trial in its ledger" if what == "study" else "no readable line in its metrics.jsonl"
        warn(f"{shown(source)}: {found}; what is written is empty")
    if to == "tensorboard":
        return export_study_tensorboard(loaded, out) if what == "study" else export_run_tensorboard(loaded, out)
    return export_study_table(loaded, out, to) if what == "study" else export_run_table(loaded, out, to)
