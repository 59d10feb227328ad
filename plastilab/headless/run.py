"""``plastilab run``: launch a scenario (or resume a run) with a progress display, then print its report.

Ctrl-C, SIGTERM (``kill``, ``timeout``) and SIGHUP (the terminal closed) all end the run the same
way: status ``interrupted``, summary.json written, and the exit code says which signal it was
(130, 143, 129: 128 + its number, the shell's convention). A signal while the report prints
stops the report, not the run folder, which is complete by then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plastilab.core.control import RunControl
from plastilab.core.events import RunFailed
from plastilab.core.scenario_file import Scenario
from plastilab.headless.progress import make_progress
from plastilab.runtime.launcher import Launched, launch, resume
from plastilab.runtime.signals import StopFlag, StopSignal, exit_code_of, signal_name, stop_signals


@dataclass(frozen=True)
class HeadlessRun:
    state: str  # "finished" | "failed" | "interrupted"
    run_dir: Path
    error: str | None  # the failed run's one line
    signal: int | None  # the first stop signal received, if any

    @property
    def stopped_by(self) -> str | None:
        return signal_name(self.signal) if self.signal is not None else None

    @property
    def exit_code(self) -> int:
        if self.state == "failed":
            return 1
        if self.signal is not None:
            return exit_code_of(self.signal)
        return 130 if self.state == "interrupted" else 0


def run_headless(scenario: Scenario, out: Path | None = None, quiet: bool = False, threads: int | None = None) -> HeadlessRun:
    """Run to the end and print the report (unless ``quiet``: then only the run folder).

    A stop signal before the run folder exists raises ``StopSignal`` (nothing to report); after
    that, the run ends ``interrupted`` and the outcome says which signal ended it."""
    return _headless(lambda consumers, control: launch(scenario, out, consumers=consumers, control=control, threads=threads), quiet)


def resume_headless(run_dir: Path, quiet: bool = False, threads: int | None = None) -> HeadlessRun:
    """``plastilab run --resume RUN_DIR``: continue the run from its checkpoint, as ``run_headless``.
    A folder that cannot be resumed raises a one-line ``PlastilabError`` before anything runs."""
    return _headless(lambda consumers, control: resume(run_dir, consumers=consumers, control=control, threads=threads), quiet)


def _headless(start: Callable[[list, RunControl], Launched], quiet: bool) -> HeadlessRun:
    stop = StopFlag()  # set by the handler too: a StopSignal raised inside a finalizer is dropped
    with stop_signals(stop) as received:
        progress = make_progress(quiet)
        try:
            launched = start([progress] if progress else [], RunControl(stop=stop))
        finally:
            if progress:
                progress.close()
        run_dir, end = launched.run_dir, launched.end
        try:
            if quiet:
                print(run_dir)
            else:
                from plastilab.headless.report import print_report  # deferred: pulls in plotext

                print_report(run_dir, show_error=False)  # the CLI prints the error line once
        except StopSignal:
            pass  # asked to stop while the report printed: the run folder is already complete
    error = None
    if isinstance(end, RunFailed):
        error = end.error + (f" (traceback in {run_dir / 'error.txt'})" if end.details else "")
    return HeadlessRun(launched.state, run_dir, error, received[0] if received else None)
