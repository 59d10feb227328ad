"""The runs folder as a list: one line per past run, read from its small files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from plastilab.core.presentation import presentation_for
from plastilab.core.safe_text import shown
from plastilab.rundir.listing_cache import folders, line_of
from plastilab.rundir.reader import RunFolder
from plastilab.rundir.state import RUNNING, state_from_status


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
    status: dict | None = field(default=None, repr=False, compare=False)  # status.json as read (a cached line's liveness)

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
    from plastilab.studies.listing import read_study

    # Each folder is listed, and each run's line read, only when the folder changed (listing_cache:
    # the cost of an idle watch); a study is one line, its trials open from the study view.
    run_dirs, studies = folders(root)
    runs = [line_of(path, read_run, _still_true) for path in run_dirs]
    return sorted(runs + [read_study(path) for path in studies], key=lambda run: run.path.name, reverse=True)


def _still_true(info: RunInfo) -> RunInfo:
    """A cached line of a run that was running: is its writer still alive? (No file is read.)"""
    if info.state != RUNNING or info.status is None:
        return info
    state = state_from_status(info.status)
    return info if state == info.state else replace(info, state=state)


def read_run(path: Path) -> RunInfo:
    folder = RunFolder.open(path)
    state = state_from_status(folder.status)
    scenario = folder.meta.get("scenario") or folder.scenario.get("name") or path.parent.name
    return RunInfo(
        path=path,
        scenario=shown(scenario, 80),
        started=started_of(path, folder.meta),
        state=state,
        last_step=int(folder.status.get("last_step", 0)),
        finals=_finals(folder.summary, presentation_for(folder.meta.get("kind") or folder.scenario.get("kind")).main_curve),
        error=folder.status.get("error"),
        status=folder.status,
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
