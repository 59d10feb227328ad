"""Schedule a study's trials on an executor, keep the ledger truthful, aggregate at the end.

At most ``capacity`` trials are in flight, so "running" in the ledger means running. Ctrl-C once:
no new trial starts and every running one is asked to stop (it ends ``interrupted``, its files
closed); twice: the workers are killed. Trials that never started stay ``pending``.
``--resume`` reruns everything not ``finished``: an interrupted or abandoned trial whose scenario
checkpoints goes on from its checkpoint in its run folder, any other starts again.
"""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.rundir import layout
from plastilab.rundir.state import END_STATES, read_status
from plastilab.runtime.resume import why_not_resumable
from plastilab.studies.executors import make_executor
from plastilab.studies.folder import CHECKPOINTS_DIR, TRIALS_DIR
from plastilab.studies.ledger import DONE, Ledger
from plastilab.studies.population_job import population_job, results_by_trial
from plastilab.studies.populations import check_gpus, memory_budget, plan, ray_gpus
from plastilab.studies.probe_steps import write_probe_steps
from plastilab.studies.progress import StudyProgress, trial_step
from plastilab.studies.study_file import StudyPlan, check_study, trial_source


@dataclass(frozen=True)
class StudyOutcome:
    study_dir: Path
    counts: dict[str, int]
    interrupted: bool


WORKER_DIED = "its worker process died (killed by a signal, or out of memory?); the study went on without it"


def trial_root(study_dir: Path, study: StudyPlan, trial_id: str) -> Path:
    return study_dir / TRIALS_DIR / f"{study.name}.{trial_id}"


def newest_run_dir(root: Path, since: float = 0.0) -> Path | None:
    """The trial's newest run folder started after ``since`` (folders are named by their start time)."""
    try:
        folders = sorted((p for p in root.iterdir() if (p / layout.STATUS).is_file()), key=lambda p: p.name)
    except OSError:
        return None
    for folder in reversed(folders):
        if folder.stat().st_ctime + 2 >= since:
            return folder
    return None


def state_from_folder(run_dir: Path | None) -> tuple[str, str | None]:
    """What a run folder says about a trial whose worker gave no answer (killed, cancelled)."""
    if run_dir is None:
        return "abandoned", None
    status = read_status(run_dir)  # the run folder's state, read as rundir/state.py reads it
    if status.get("state") in END_STATES:
        return status["state"], status.get("error")
    return "abandoned", None  # still "running" on disk (or unreadable), but nobody runs it any more


def resumable_run_dir(study_dir: Path, entry: dict) -> str | None:
    """The run folder an interrupted or abandoned trial goes on in, from its checkpoint (its
    scenario had ``checkpoint_every``); None: the trial starts again from step 0. A failed
    trial starts again: resuming would meet the same NaN or bug at the same step."""
    if entry.get("state") not in ("interrupted", "abandoned") or not entry.get("run_dir"):
        return None
    run_dir = (study_dir / entry["run_dir"]).resolve()
    return str(run_dir) if why_not_resumable(run_dir) is None else None


def reconcile(study: StudyPlan, study_dir: Path, ledger: Ledger, target: str) -> None:
    """Before resuming: a trial the ledger still calls running lost its scheduler; read its folder.
    An interrupted or abandoned trial whose folder has since finished (``plastilab run --resume``
    on the trial's folder, by hand) is finished: it is not run again."""
    for trial in study.trials:
        entry = ledger.latest.get(trial.id, {})
        if entry.get("state") in ("interrupted", "abandoned") and entry.get("run_dir"):
            run_dir = study_dir / entry["run_dir"]
            if state_from_folder(run_dir if run_dir.is_dir() else None)[0] == DONE:
                write_probe_steps(study_dir / CHECKPOINTS_DIR / f"{trial.id}.json", trial.id, run_dir, target)
                ledger.record(trial.id, DONE, run_dir=entry["run_dir"], error=None, ended=time.time())
            continue
        if entry.get("state") != "running":
            continue
        run_dir = newest_run_dir(trial_root(study_dir, study, trial.id), entry.get("started", 0.0))
        state, error = state_from_folder(run_dir)
        rel = str(run_dir.relative_to(study_dir)) if run_dir else None
        if state == DONE:
            write_probe_steps(study_dir / CHECKPOINTS_DIR / f"{trial.id}.json", trial.id, run_dir, target)
        ledger.record(trial.id, state, run_dir=rel, error=error, ended=time.time())


def run_study(
    study: StudyPlan,
    study_dir: Path,
    *,
    executor_name: str = "local",
    address: str | None = None,
    workers: int | None = None,
    quiet: bool = False,
    command: list[str] | None = None,
    population_size: int | None = None,
    gpus_per_trial: float | None = None,
) -> StudyOutcome:
    scenarios = {t.id: s for t, s in zip(study.trials, check_study(study))}
    target = study.config.analysis.target
    ledger = Ledger(study_dir)
    reconcile(study, study_dir, ledger, target)
    for trial in study.trials:
        if trial.id not in ledger.latest:
            ledger.record(trial.id, "pending", overrides=trial.overrides)
    todo = [t for t in study.trials if ledger.state(t.id) != DONE]
    executor = make_executor(executor_name, address, workers or study.config.workers)
    try:
        size = population_size or study.config.population_size
        queue = _population_jobs(study, study_dir, ledger, todo, scenarios, executor, target, command, size, gpus_per_trial)
    except BaseException:
        executor.close()
        ledger.close()
        raise
    if not quiet:
        packed = f" as {len(queue)} population{'s' if len(queue) != 1 else ''}" if len(queue) < len(todo) else ""
        print(f"{study.name}: {len(study.trials)} trials, {len(todo)} to run{packed} on the {executor.describe()}; folder {study_dir}", file=sys.stderr)
    progress = StudyProgress(study.name, len(study.trials), quiet)
    in_flight: dict[str, float] = {}  # trial -> when it started
    jobs: dict[str, list[str]] = {}  # a job in flight -> its trials (one, or a population's)
    session = {"started": time.time(), "ended": 0}  # for the ETA: trials that ended in this session
    stops = {"count": 0}

    def on_sigint(signum, frame) -> None:
        stops["count"] += 1
        if stops["count"] == 1:
            executor.stop()
        else:
            executor.kill()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        while (queue and not stops["count"]) or jobs:
            while queue and not stops["count"] and len(jobs) < executor.capacity:
                job = queue.pop(0)
                started = time.time()
                executor.submit(job)
                members = [m["trial"] for m in job.get("members", [job])]
                jobs[job["trial"]] = members
                for trial_id in members:
                    in_flight[trial_id] = started
                    population = job["trial"] if job.get("members") else None
                    ledger.record(trial_id, "running", started=started, run_dir=None, error=None, ended=None, population=population)
            for key, answer in executor.wait(1.0):
                for trial_id, result in results_by_trial(key, answer, jobs.pop(key)):
                    started = in_flight.pop(trial_id)
                    if result is None or result.get("worker_died"):  # no answer: the run folder tells what happened
                        run_dir = newest_run_dir(trial_root(study_dir, study, trial_id), started)
                        state, error = state_from_folder(run_dir)
                        if result is not None and state == "abandoned":
                            state, error = "failed", WORKER_DIED
                        result = {"state": state, "error": error, "run_dir": str(run_dir.relative_to(study_dir)) if run_dir else None}
                    ended = time.time()
                    fields = {k: result.get(k) for k in ("run_dir", "error", "cpu_seconds", "host")}
                    ledger.record(trial_id, result["state"], ended=ended, seconds=round(ended - started, 3), **fields)
                    session["ended"] += 1
            waiting = [m["trial"] for job in queue for m in job.get("members", [job])]
            _show(progress, study, study_dir, ledger, in_flight, waiting, session, executor.capacity, scenarios)
    finally:
        signal.signal(signal.SIGINT, previous)
        executor.close()
        progress.close()
        ledger.close()
    counts: dict[str, int] = {}
    for trial in study.trials:
        state = ledger.state(trial.id)
        counts[state] = counts.get(state, 0) + 1
    return StudyOutcome(study_dir, counts, interrupted=bool(stops["count"]))


def _population_jobs(study, study_dir, ledger, todo, scenarios, executor, target, command, population_size, gpus_per_trial) -> list[dict[str, Any]]:
    """The jobs that run ``todo``: a trial alone as before, or a population of trials
    (``studies.populations``: packed by kind and shape, sized by memory and workers)."""
    def trial_job(trial) -> dict[str, Any]:
        return {
            "trial": trial.id,
            "scenario": trial.scenario,
            "source": trial_source(study, trial),
            "study_dir": str(study_dir.resolve()),
            "target": target,
            "command": command or ["plastilab", "run", str(study.path)],
            "resume_dir": resumable_run_dir(study_dir, ledger.latest.get(trial.id, {})),
        }

    budget = memory_budget(executor)
    populations = plan(todo, scenarios, workers=executor.capacity, size=population_size, memory_budget=budget, gpus_per_trial=gpus_per_trial)
    jobs = []
    for population in populations:
        gpus = ray_gpus(executor, [scenarios[t.id] for t in population], gpus_per_trial)
        if len(population) == 1:
            jobs.append({**trial_job(population[0]), **({"num_gpus": gpus} if gpus else {})})
        else:
            key = f"{population[0].id}+{len(population) - 1}"  # t004+5: t004 and five more
            jobs.append(population_job(key, [trial_job(t) for t in population], gpus))
    check_gpus(executor, jobs)
    return jobs


def _show(progress, study, study_dir, ledger, in_flight, todo, session, capacity, scenarios) -> None:
    states = [ledger.state(t.id) for t in study.trials]
    done = sum(s == DONE for s in states)
    failed = sum(s == "failed" for s in states)
    running = [
        (tid, trial_step(trial_root(study_dir, study, tid), started), scenarios[tid].config.total_steps())
        for tid, started in in_flight.items()
    ]
    # Work done this session in trials (running ones by their fraction of steps), over time spent.
    worked = session["ended"] + sum((step or 0) / max(1, total) for _, step, total in running)
    elapsed = time.time() - session["started"]
    eta = None
    if worked > 0.05 and elapsed > 0:
        eta = (len(todo) + len(running) - (worked - session["ended"])) * elapsed / worked
    progress.update(done, running, failed, eta)
