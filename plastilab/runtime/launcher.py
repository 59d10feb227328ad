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
from plastilab.core.events import Event
from plastilab.core.preflight import preflight
from plastilab.core.scenario_file import Scenario
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.state import state_of
from plastilab.rundir.writer import RunFolderWriter

DEFAULT_THREADS = 1


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
    the run; ``threads`` sets torch's CPU threads (None: one, since the scenarios' small models
    gain little from more and spinning threads collapse when another process shares the cores);
    ``command`` is recorded in meta.json (None: this process's command line).

    Bad input (device, dataset, an unusable ``out``) raises a one-line ``PlastilabError`` before
    any run folder exists; everything after that ends in the returned end event.
    """
    import torch

    torch.set_num_threads(threads or DEFAULT_THREADS)
    preflight(scenario)  # bad input fails before a run folder exists: nothing half-made is left
    try:
        run_dir = new_run_dir(scenario.name, out)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create a run folder there ({exc.strerror or exc}); choose another folder") from None
    writer = RunFolderWriter(run_dir, scenario, command=list(command) if command is not None else None)
    end = drive(scenario, [writer, *consumers], run_dir=str(run_dir), control=control)
    return Launched(end=end, run_dir=run_dir, state=state_of(end))
