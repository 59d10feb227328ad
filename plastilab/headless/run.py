"""``plastilab run``: drive a scenario with the run-folder writer and a progress display."""

from __future__ import annotations

import signal
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.core.preflight import preflight
from plastilab.core.driver import drive
from plastilab.core.events import RunFailed, RunInterrupted
from plastilab.core.scenario_file import Scenario
from plastilab.headless.progress import make_progress
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.writer import RunFolderWriter


def run_headless(scenario: Scenario, out: Path | None = None, quiet: bool = False, threads: int | None = None):
    """Run to the end; return (state, run_dir, error). The report is printed unless ``quiet``."""
    import torch

    # One thread by default: the scenarios' small models gain little from more, and torch's
    # spinning worker threads collapse when another process shares the cores.
    torch.set_num_threads(threads or 1)
    # Bad input fails before a run folder exists, so nothing half-made is left behind.
    preflight(scenario)
    try:
        run_dir = new_run_dir(scenario.name, out)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create a run folder there ({exc.strerror or exc}); choose another folder") from None
    writer = RunFolderWriter(run_dir, scenario)
    progress = make_progress(quiet)
    consumers = [writer] + ([progress] if progress else [])
    try:
        end = drive(scenario, consumers, run_dir=str(run_dir))
    finally:
        if progress:
            progress.close()
    # A second Ctrl-C while the report prints should not leave a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if quiet:
        print(run_dir)
    else:
        from plastilab.headless.report import print_report

        print_report(run_dir, show_error=False)  # the CLI prints the error line once
    state = "failed" if isinstance(end, RunFailed) else "interrupted" if isinstance(end, RunInterrupted) else "finished"
    error = None
    if isinstance(end, RunFailed):
        error = end.error + (f" (traceback in {run_dir / 'error.txt'})" if end.details else "")
    return state, run_dir, error
