"""The runs folder as a list (the runs list of ``plastilab watch``, ``serve --watch`` and the
lab): one line per run folder, read from its small files, and one line per study folder (its
trials' run folders are opened from the study view, not listed one by one).

The one run index. It sits in the studies layer because a study's line reads the study's ledger;
a run's line needs only ``rundir`` (its state decided by ``rundir.state``, its folder reread
only when it changed: ``rundir.listing_cache``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from plastilab.core.presentation import presentation_for
from plastilab.core.safe_text import shown
from plastilab.rundir import layout
from plastilab.rundir.listing_cache import folders, line_of
from plastilab.rundir.reader import RunFolder
from plastilab.rundir.state import RUNNING, read_state, state_from_status
from plastilab.studies import folder
from plastilab.studies.ledger import read_ledger


@dataclass
class RunInfo:
    path: Path
    scenario: str
    started: str  # YYYY-mm-dd HH:MM
    state: str  # rundir.state.read_state: running, finished, failed, interrupted, abandoned
    last_step: int
    finals: dict[str, float | None] = field(default_factory=dict)  # series -> last task's final loss
    error: str | None = None
    kind: str = "run"  # or "study": a study folder (``read_study``), opened in the study view
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
    """Every run folder and study folder under ``root``, one line each, newest first."""
    if not Path(root).exists():
        return []
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
    run_folder = RunFolder.open(path)
    state = state_from_status(run_folder.status)
    scenario = run_folder.meta.get("scenario") or run_folder.scenario.get("name") or path.parent.name
    return RunInfo(
        path=path,
        scenario=shown(scenario, 80),
        started=started_of(path, run_folder.meta),
        state=state,
        last_step=int(run_folder.status.get("last_step", 0)),
        finals=_finals(run_folder.summary, presentation_for(run_folder.meta.get("kind") or run_folder.scenario.get("kind")).main_curve),
        error=run_folder.status.get("error"),
        status=run_folder.status,
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


# -- study folders ------------------------------------------------------------------------------
def find_study_dirs(root: str | Path) -> list[Path]:
    """Every study folder under ``root`` (``runs/<study>/<stamp>-<id>/`` holding trials.jsonl)."""
    root = Path(root)
    if folder.is_study_dir(root):
        return [root]
    try:
        ledgers = [*root.glob("*/" + folder.LEDGER), *root.glob("*/*/" + folder.LEDGER)]
        found = [p.parent for p in ledgers if folder.is_study_dir(p.parent)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name, reverse=True)


def study_state(study_dir: Path) -> tuple[str, dict[str, int]]:
    """(running | finished | failed | interrupted, counts per trial state) from the ledger, a
    trial the ledger calls running checked against its run folder (its scheduler may be dead)."""
    counts: dict[str, int] = {}
    ledger = study_dir / folder.LEDGER
    if not ledger.is_file():  # a pipe or a folder by that name: nothing to read (and no hang)
        return "interrupted", counts
    for trial_id, entry in read_ledger(ledger).items():
        state = entry.get("state", "pending")
        if state == "running":
            state = _running_on_disk(study_dir, trial_id)
        counts[state] = counts.get(state, 0) + 1
    if counts.get("running"):
        return "running", counts
    if counts and set(counts) == {"finished"}:
        return "finished", counts
    if counts.get("failed") and not (counts.get("pending") or counts.get("interrupted") or counts.get("abandoned")):
        return "failed", counts
    return "interrupted", counts  # some trials left to run: `plastilab run --resume` finishes it


def _running_on_disk(study_dir: Path, trial_id: str) -> str:
    statuses = sorted((study_dir / folder.TRIALS_DIR).glob(f"*.{trial_id}/*/{layout.STATUS}"), key=lambda p: p.parent.name)
    if not statuses:
        return "running"  # its worker has not made the run folder yet
    state = read_state(statuses[-1].parent)
    return "abandoned" if state == "abandoned" else "running"


def counts_text(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = [f"{counts.get('finished', 0)}/{total} trials finished"]
    parts += [f"{n} {state}" for state, n in sorted(counts.items()) if state != "finished" and n]
    return ", ".join(parts)


def read_study(study_dir: Path) -> RunInfo:
    """The study as a line of the runs list."""
    state, counts = study_state(study_dir)
    return RunInfo(
        path=study_dir,
        scenario=shown(study_dir.parent.name, 70) + " (study)",
        started=started_of(study_dir, {}),
        state=state,
        last_step=0,
        kind="study",
        note=counts_text(counts),
    )
