"""What a study folder says now, for the lab's study view: each trial's state and step, the
counts, an ETA, and the aggregate of the trials finished so far.

Reads only the study folder (study.toml, trials.jsonl, the trials' run folders and probe-step
files) and writes nothing, so any number of read-only viewers can follow one study. The
aggregate is the one ``aggregate`` writes (``build_table``, then the analysis's own ``live``
part: correlations, a scaling curve), computed in memory and again only when another trial has
finished.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plastilab.core.value_text import show_value
from plastilab.rundir import layout, safe_files
from plastilab.rundir.state import read_state
from plastilab.studies import folder
from plastilab.studies.analyses import analysis_for
from plastilab.studies.analyses.base import AnalysisInputs
from plastilab.studies.ledger import DONE, read_ledger
from plastilab.studies.probe_steps import read_probe_steps
from plastilab.studies.probe_table import build_table
from plastilab.studies.runner import newest_run_dir, trial_root
from plastilab.studies.study_file import StudyPlan, load_study_plan, resolve_trial

STATES = ("running", "pending", "finished", "failed", "interrupted", "abandoned")


@dataclass(frozen=True)
class TrialRow:
    id: str
    label: str  # the trial's overrides, seed included
    settings: str  # the same, short: the last part of each key (rewards=[sparse] seed=1)
    state: str  # the ledger's word, corrected by the run folder while the ledger says running
    step: int | None  # the run folder's last step (None: no run folder yet)
    total: int | None  # the trial's total steps
    seconds: float | None  # how long it ran (finished) or has been running
    run_dir: Path | None  # the trial's newest run folder (absolute)
    error: str | None = None


@dataclass(frozen=True)
class Aggregate:
    """The aggregate of the finished trials: the tidy table and what the analysis reads from it."""

    columns: list[str]
    rows: list[dict[str, Any]]
    target: str | None
    axis_columns: list[str]  # the study's axes as table columns (what may colour a scatter)
    correlations: list[dict[str, Any]] = field(default_factory=list)  # pooled, step > 0
    correlations_last: list[dict[str, Any]] = field(default_factory=list)  # last probe step only
    scaling: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StudySnapshot:
    study_dir: Path
    name: str
    analysis: str  # the analysis kind (``studies.analyses``)
    color_by: str | None
    x: str | None  # scaling: the axis on the x axis
    trials: list[TrialRow]
    counts: dict[str, int]
    eta_s: float | None
    aggregate: Aggregate | None

    @property
    def running(self) -> bool:
        return self.counts.get("running", 0) > 0


class StudyReader:
    """Reads one study folder again and again, keeping what cannot change between reads."""

    def __init__(self, study_dir: str | Path) -> None:
        self.study_dir = Path(study_dir)
        self.study: StudyPlan = load_study_plan(self.study_dir / folder.STUDY_FILE)  # the resolved copy
        self._totals: dict[str, int | None] = {}
        self._probe_steps: dict[str, dict] = {}
        self._aggregate_key: tuple | None = None
        self._aggregate: Aggregate | None = None

    def read(self, now: float | None = None) -> StudySnapshot:
        now = time.time() if now is None else now
        path = self.study_dir / folder.LEDGER
        ledger = read_ledger(path) if path.is_file() else {}  # never block on a pipe by that name
        rows = [self._trial_row(trial, ledger.get(trial.id, {}), now) for trial in self.study.trials]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        finished = tuple(r.id for r in rows if r.state == DONE and ledger.get(r.id, {}).get("state") == DONE)
        if finished != self._aggregate_key:
            self._aggregate = self._aggregate_of(finished, ledger)
            self._aggregate_key = finished
        config = self.study.config.analysis
        return StudySnapshot(
            study_dir=self.study_dir,
            name=self.study.name,
            analysis=config.kind,
            color_by=config.color_by,
            x=config.x or next(iter(self.study.config.axes), None),
            trials=rows,
            counts=counts,
            eta_s=eta_seconds(rows, ledger),
            aggregate=self._aggregate,
        )

    def total_steps(self, trial_id: str) -> int | None:
        if trial_id not in self._totals:
            trial = next(t for t in self.study.trials if t.id == trial_id)
            try:
                self._totals[trial_id] = int(resolve_trial(self.study, trial).config.total_steps())
            except Exception:  # noqa: BLE001 - a trial that does not resolve has no total to show
                self._totals[trial_id] = None
        return self._totals[trial_id]

    def _trial_row(self, trial, entry: dict[str, Any], now: float) -> TrialRow:
        state = entry.get("state", "pending")
        run_dir = safe_files.inside(self.study_dir, entry.get("run_dir"))  # never a ledger path outside the study
        if state == "running":
            run_dir = newest_run_dir(trial_root(self.study_dir, self.study, trial.id), entry.get("started", 0.0))
            if run_dir is not None:
                on_disk = read_state(run_dir)
                # The run folder knows first: its worker died (abandoned) or it just ended.
                state = on_disk if on_disk in STATES else state
        step = _last_step(run_dir) if run_dir is not None else None
        seconds = entry.get("seconds")
        if state == "running" and entry.get("started"):
            seconds = max(0.0, now - float(entry["started"]))
        return TrialRow(
            id=trial.id,
            label=trial.label(),
            settings=" ".join(f"{k.rsplit('.', 1)[-1]}={show_value(v)}" for k, v in trial.overrides.items()),
            state=state,
            step=step,
            total=self.total_steps(trial.id) if state in ("running", "pending", "finished") or step is not None else None,
            seconds=seconds,
            run_dir=run_dir,
            error=entry.get("error"),
        )

    def _aggregate_of(self, finished: tuple[str, ...], ledger: dict[str, dict]) -> Aggregate | None:
        if not finished:
            return None
        for trial_id in finished:
            if trial_id not in self._probe_steps:
                data = self._read_probe_steps(trial_id, ledger.get(trial_id, {}))
                if data is not None:
                    self._probe_steps[trial_id] = data
        columns, rows, target = build_table(self.study, self._probe_steps)
        axis_columns = columns[3 : columns.index("step")]
        live = analysis_for(self.study.config.analysis.kind).live(AnalysisInputs(self.study, columns, rows, target, self._probe_steps))
        return Aggregate(columns, rows, target, axis_columns, **live)

    def _read_probe_steps(self, trial_id: str, entry: dict[str, Any]) -> dict | None:
        """The trial's probe-step file; rebuilt in memory (never written) when it is missing."""
        path = self.study_dir / folder.CHECKPOINTS_DIR / f"{trial_id}.json"
        saved = safe_files.read_json(path)
        if saved is not None:
            return saved
        run_dir = safe_files.inside(self.study_dir, entry.get("run_dir"))  # never a ledger path outside the study
        if run_dir is not None:
            try:
                return read_probe_steps(run_dir, self.study.config.analysis.target)
            except OSError:
                return None
        return None


def _last_step(run_dir: Path) -> int | None:
    try:
        return int(safe_files.read_json(run_dir / layout.STATUS, 1 << 16).get("last_step", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def eta_seconds(rows: list[TrialRow], ledger: dict[str, dict]) -> float | None:
    """Time left: the work left (pending trials, and the unfinished share of running ones) at the
    median finished trial's duration, spread over as many trials as run at once now."""
    running = [r for r in rows if r.state == "running"]
    pending = sum(r.state == "pending" for r in rows)
    if not running:
        return None if pending else 0.0
    durations = [float(ledger[r.id]["seconds"]) for r in rows if r.state == DONE and isinstance(ledger.get(r.id, {}).get("seconds"), (int, float))]
    fractions = [min(1.0, (r.step or 0) / r.total) if r.total else 0.0 for r in running]
    if durations:
        per_trial = statistics.median(durations)
    else:  # nothing finished yet: extrapolate the running trials' own pace
        paces = [r.seconds / f for r, f in zip(running, fractions) if f > 0.02 and r.seconds]
        if not paces:
            return None
        per_trial = statistics.median(paces)
    left = pending + sum(1.0 - f for f in fractions)
    return left * per_trial / len(running)
