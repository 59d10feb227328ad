"""Study folders in a runs folder, for the runs list: one line per study (its trials' run folders
are opened from the study view, not listed one by one)."""

from __future__ import annotations

from pathlib import Path

from plastilab.rundir import layout
from plastilab.rundir.state import read_state
from plastilab.studies import folder
from plastilab.studies.ledger import read_ledger


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


def inside_any(path: Path, study_dirs: list[Path]) -> bool:
    return any(study_dir in path.parents for study_dir in study_dirs)


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


def read_study(study_dir: Path):
    """The study as a line of the runs list."""
    from plastilab.core.safe_text import shown
    from plastilab.rundir.index import RunInfo, started_of

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
