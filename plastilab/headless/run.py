"""``plastilab run``: launch a scenario with a progress display, then print its report."""

from __future__ import annotations

import signal
from pathlib import Path

from plastilab.core.events import RunFailed
from plastilab.core.scenario_file import Scenario
from plastilab.headless.progress import make_progress
from plastilab.runtime.launcher import launch


def run_headless(scenario: Scenario, out: Path | None = None, quiet: bool = False, threads: int | None = None):
    """Run to the end; return (state, run_dir, error). The report is printed unless ``quiet``."""
    progress = make_progress(quiet)
    try:
        launched = launch(scenario, out, consumers=[progress] if progress else [], threads=threads)
    finally:
        if progress:
            progress.close()
    run_dir, end = launched.run_dir, launched.end
    # A second Ctrl-C while the report prints should not leave a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if quiet:
        print(run_dir)
    else:
        from plastilab.headless.report import print_report

        print_report(run_dir, show_error=False)  # the CLI prints the error line once
    error = None
    if isinstance(end, RunFailed):
        error = end.error + (f" (traceback in {run_dir / 'error.txt'})" if end.details else "")
    return launched.state, run_dir, error
