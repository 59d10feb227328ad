"""``plastilab run STUDY.toml`` and ``plastilab run --resume STUDY_DIR``: the CLI's study path.

Kept out of cli.py so the CLI only detects a study and hands over. Returns the exit code:
0 all trials finished, 1 some failed, 130 interrupted (143 by SIGTERM, 129 by SIGHUP; bad input
raises a one-line error). SIGTERM and SIGHUP stop a study as Ctrl-C does: no new trial starts,
every running trial is asked to stop and ends ``interrupted``; a second signal kills the workers.
"""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.headless.study_report import print_study_report
from plastilab.runtime.signals import StopSignal, exit_code_of, stop_signals
from plastilab.studies.aggregate import aggregate_study
from plastilab.studies.claim import study_claim
from plastilab.studies.folder import LEDGER, STUDY_FILE, is_study_dir, new_study_dir
from plastilab.studies.ledger import read_ledger
from plastilab.studies.populations import check_population_flags
from plastilab.studies.ray_address import check_reachable
from plastilab.studies.resume_check import check_resumable
from plastilab.studies.runner import StudyOutcome, run_study
from plastilab.studies.study_file import check_study, load_study_plan

EXIT_INTERRUPTED = 130


def check_executor(executor: str, address: str | None) -> None:
    if executor not in ("local", "ray"):
        raise ScenarioError(f"--executor: found {executor!r}; allowed: local, ray")
    if address and executor != "ray":
        raise ScenarioError("--address: only for --executor ray; drop it or add --executor ray")
    if executor == "ray":
        if importlib.util.find_spec("ray") is None:
            raise ScenarioError("--executor ray: Ray is not installed; pip install 'plastilab[ray]'")
        if address:
            check_reachable(address)  # bounded, before any study folder exists


def run_study_command(
    file: Path | None,
    *,
    overrides: list[str],
    out: Path | None,
    executor: str,
    address: str | None,
    resume: Path | None,
    workers: int | None,
    quiet: bool,
    population_size: int | None = None,
    gpus_per_trial: float | None = None,
) -> int:
    with stop_signals() as received, _like_ctrl_c(received):
        check_executor(executor, address)  # before any folder exists
        check_population_flags(population_size, gpus_per_trial, executor)
        study, study_dir = _study_and_folder(file, resume=resume, overrides=overrides, out=out)
        with study_claim(study_dir):  # one scheduler per study folder: a second is refused, not run beside it
            if resume is not None:
                check_resumable(study_dir, study, read_ledger(study_dir / LEDGER))  # under the claim: the ledger is still
            outcome = run_study(
                study, study_dir, executor_name=executor, address=address, workers=workers, quiet=quiet, command=list(sys.argv),
                population_size=population_size, gpus_per_trial=gpus_per_trial,
            )
        code = _report_outcome(outcome, study_dir, quiet)
    stopped_by = [number for number in received if number != signal.SIGINT]
    return exit_code_of(stopped_by[0]) if code == EXIT_INTERRUPTED and stopped_by else code


@contextlib.contextmanager
def _like_ctrl_c(received: list[int]) -> Iterator[None]:
    """While the scheduler has its own Ctrl-C handler (one stop for every trial, then a kill),
    SIGTERM and SIGHUP go to it too; before and after, they raise ``StopSignal``."""

    def on_signal(signum, frame) -> None:
        received.append(signum)
        scheduler = signal.getsignal(signal.SIGINT)
        if callable(scheduler) and scheduler is not previous.get(signal.SIGINT):
            scheduler(signal.SIGINT, frame)
        else:
            raise StopSignal(signum)

    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for number in (signal.SIGTERM, signal.SIGHUP):
        if previous[number] not in (signal.SIG_IGN, signal.SIG_DFL, None):  # stop_signals installed one
            signal.signal(number, on_signal)
    try:
        yield
    finally:
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, previous[number] if previous[number] is not None else signal.SIG_DFL)


def _study_and_folder(file: Path | None, *, resume: Path | None, overrides: list[str], out: Path | None):
    """The study to run and its folder: the one being resumed, or a new one once every trial's
    scenario has been checked."""
    if resume is not None:
        if file is not None:
            raise ScenarioError(f"--resume {resume}: give the study folder alone, not also {file}")
        if not is_study_dir(resume):
            raise ScenarioError(f"--resume {resume}: not a study folder (no {STUDY_FILE} and trials.jsonl); pass runs/<study>/<stamp>-<id>")
        if overrides:
            raise ScenarioError("--set: a resumed study keeps the settings it started with; start a new study to change them")
        return load_study_plan(resume / STUDY_FILE), resume
    assert file is not None
    study = load_study_plan(file, overrides)
    check_study(study)  # every trial's scenario, before a study folder exists
    return study, new_study_dir(study, out)


def _report_outcome(outcome: StudyOutcome, study_dir: Path, quiet: bool) -> int:
    """Aggregate what finished, print the report (or the folder, quietly) and the exit code."""
    if outcome.counts.get("finished"):
        aggregate_study(study_dir)
    if quiet:
        print(study_dir)
    else:
        print_study_report(study_dir)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(outcome.counts.items()))
    print(f"plastilab: study {study_dir}: {counts}", file=sys.stderr)
    if outcome.interrupted or outcome.counts.get("pending") or outcome.counts.get("interrupted") or outcome.counts.get("abandoned"):
        print(f"plastilab: interrupted; finish it with: plastilab run --resume {study_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 1 if outcome.counts.get("failed") else 0
