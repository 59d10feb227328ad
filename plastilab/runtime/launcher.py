"""The one way to start a run: preflight, run folder, writer, drive.

``plastilab run``, the lab's training process and the benchmarks all call ``launch``; a study's
worker on another machine will too. It is the only place that makes a run folder and attaches
the run-folder writer, so every run's folder is made the same way.

    scenario = load_scenario("scenarios/adam-quick.toml", ["training.lr=3e-4"], seed=3)
    launched = launch(scenario, out=Path("runs"), consumers=[progress])
    launched.state, launched.run_dir, launched.end    # "finished", runs/adam-quick/2026..., RunFinished(...)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plastilab.core.control import RunControl
from plastilab.core.driver import Consumer, drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import Event, RunInterrupted
from plastilab.core.preflight import preflight
from plastilab.core.scenario_file import Scenario
from plastilab.rundir import state
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.writer import RunFolderWriter
from plastilab.runtime.signals import signals_held


@dataclass(frozen=True)
class Launched:
    end: Event  # RunFinished, RunFailed or RunInterrupted
    run_dir: Path
    state: str  # "finished" | "failed" | "interrupted"


def launch(
    scenario: Scenario,
    out: str | Path | None = None,
    *,
    consumers: Iterable[Consumer] = (),
    control: RunControl | None = None,
    threads: int | None = None,
    command: Sequence[str] | None = None,
) -> Launched:
    """Run ``scenario`` to its end with its run folder under ``out`` (None: ``runs/``).

    ``consumers`` see every event after the writer has written it; ``control`` pauses and stops
    the run; ``threads`` overrides the scenario's ``threads`` key (torch's CPU threads; the
    resolved scenario.toml and meta.json record the number used, since metrics are identical
    run to run only at the same thread count); ``command`` is recorded in meta.json (None:
    this process's command line).

    Bad input (device, dataset, an unusable ``out``) raises a one-line ``PlastilabError`` before
    any run folder exists; everything after that ends in the returned end event. The folder
    appears whole, its status.json written, and a stop signal (Ctrl-C, SIGTERM, SIGHUP) that
    arrives meanwhile is held until it is, then ends the run as ``interrupted``.
    """
    import torch

    if threads is not None and threads < 1:
        raise ScenarioError(f"threads: found {threads}; allowed: a number >= 1")
    if threads is not None and threads != scenario.config.threads:
        scenario = Scenario(scenario.path, scenario.config.model_copy(update={"threads": threads}))
    preflight(scenario)  # bad input fails before a run folder exists: nothing half-made is left
    consumers = list(consumers)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(scenario.config.threads)
    writer: RunFolderWriter | None = None
    try:
        with signals_held():  # a signal now waits until the folder is whole, then lands below
            run_dir = _new_run_folder(scenario, out)
            writer = RunFolderWriter(run_dir, scenario, command=list(command) if command is not None else None)
        end = drive(scenario, [writer, *consumers], run_dir=str(run_dir), control=control)
    except KeyboardInterrupt:
        if writer is None:
            raise  # no run folder was made: nothing to record
        # Stopped before the driver could say so (held while the folder was made), or a third
        # Ctrl-C while it closed the files: the folder still ends truthfully.
        end = RunInterrupted(writer.last_step)
        if not writer.ended:
            _tell_the_end([writer, *consumers], end)
    finally:
        torch.set_num_threads(threads_before)
    return Launched(end=end, run_dir=run_dir, state=state.state_of(end))


def _new_run_folder(scenario: Scenario, out: str | Path | None) -> Path:
    """A fresh run folder whose status.json (running, this process) exists before it has its name."""
    try:
        return new_run_dir(scenario.name, out, prepare=lambda folder: state.write_running(folder, 0))
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create a run folder there ({exc.strerror or exc}); choose another folder") from None


def _tell_the_end(consumers: list[Consumer], end: Event) -> None:
    for consumer in consumers:
        try:
            consumer.handle(end)
        except Exception:  # noqa: BLE001 - one consumer's trouble must not keep the end from the rest
            pass
