"""CSV and Parquet export: the tidy scalar table of a run, or of a study with its trial table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plastilab.analysis.errors import require
from plastilab.analysis.runs import Run
from plastilab.analysis.studies import Study

if TYPE_CHECKING:
    import pandas as pd


def export_run_table(run: Run, out: Path, fmt: str) -> list[Path]:
    """``out/scalars.<fmt>`` and ``out/per_task.<fmt>`` (task/final_loss by series and task)."""
    return [
        write_table(run.scalars, out / "scalars", fmt),
        write_table(run.per_task(), out / "per_task", fmt),
    ]


def export_study_table(study: Study, out: Path, fmt: str) -> list[Path]:
    """``out/trials.<fmt>`` (one row per trial, axes as columns) and every trial's scalars."""
    return [
        write_table(study.trials, out / "trials", fmt),
        write_table(study.scalars(), out / "scalars", fmt),
    ]


def write_table(frame: pd.DataFrame, stem: Path, fmt: str) -> Path:
    stem.parent.mkdir(parents=True, exist_ok=True)
    frame = _plain_cells(frame)
    path = stem.with_suffix("." + fmt)
    if fmt == "parquet":
        require("pyarrow", "parquet", "export --to parquet")
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _plain_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A list-valued axis (``model.hidden = [64, 64]``) as its JSON text, and a column that mixes
    text with numbers as text, so that any reader (and Parquet's typed columns) takes it."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        if frame[column].map(_is_sequence).any():
            frame[column] = frame[column].map(_json_cell)
        kinds = {str if isinstance(v, str) else float for v in frame[column] if v is not None and v == v}
        if len(kinds) > 1:
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return frame


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict))


def _json_cell(value: Any) -> Any:
    return json.dumps(list(value) if isinstance(value, tuple) else value) if _is_sequence(value) else value
