"""The runs folder as a list: one line per past run, read from its small files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from plastilab.core.presentation import presentation_for
from plastilab.core.safe_text import shown
from plastilab.rundir.layout import find_run_dirs
from plastilab.rundir.reader import RunFolder
from plastilab.rundir.state import read_state


@dataclass
class RunInfo:
    path: Path
    scenario: str
    started: str  # YYYY-mm-dd HH:MM
    state: str  # rundir.state.read_state: running, finished, failed, interrupted, abandoned
    last_step: int
    finals: dict[str, float | None] = field(default_factory=dict)  # series -> last task's final loss
    error: str | None = None
    kind: str = "run"  # or "study": a study folder (studies/listing.py), opened in the study view
    note: str = ""  # a study: how many of its trials finished

    def finals_text(self, limit: int = 4) -> str:
        if self.kind == "study":
            return self.note
        parts = [f"{name} {_short(value)}" for name, value in list(self.finals.items())[:limit]]
        if len(self.finals) > limit:
            parts.append(f"+{len(self.finals) - limit}")
        return "  ".join(parts)


def list_runs(root: Path) -> list[RunInfo]:
    if not Path(root).exists():
        return []
    from plastilab.studies.listing import find_study_dirs, inside_any, read_study

    studies = find_study_dirs(root)  # each one line; its trials open from the study view
    runs = [read_run(path) for path in find_run_dirs(root) if not inside_any(path, studies)]
    return sorted(runs + [read_study(path) for path in studies], key=lambda run: run.path.name, reverse=True)


def read_run(path: Path) -> RunInfo:
    folder = RunFolder.open(path)
    state = read_state(path)
    scenario = folder.meta.get("scenario") or folder.scenario.get("name") or path.parent.name
    return RunInfo(
        path=path,
        scenario=shown(scenario, 80),
        started=started_of(path, folder.meta),
        state=state,
        last_step=int(folder.status.get("last_step", 0)),
        finals=_finals(folder.summary, presentation_for(folder.meta.get("kind") or folder.scenario.get("kind")).main_curve),
        error=folder.status.get("error"),
    )


def started_of(path: Path, meta: dict) -> str:
    stamp = path.name.split("-")
    if len(stamp) >= 2:
        try:
            return time.strftime("%Y-%m-%d %H:%M", time.strptime(f"{stamp[0]}-{stamp[1]}", "%Y%m%d-%H%M%S"))
        except ValueError:
            pass
    return str(meta.get("started", "?"))[:16].replace("T", " ")


def _finals(summary: dict | None, main_curve: str) -> dict[str, float | None]:
    """Per series: the last task's final loss, or (a run without tasks) the last value of the
    kind's main curve."""
    finals: dict[str, float | None] = {}
    for name, data in ((summary or {}).get("series") or {}).items():
        per_task = (data.get("per_task") or {}).get("task/final_loss") or []
        if per_task:
            finals[shown(name, 60)] = per_task[-1]
        else:
            finals[shown(name, 60)] = (data.get("final") or {}).get(main_curve)
    return finals


def _short(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
