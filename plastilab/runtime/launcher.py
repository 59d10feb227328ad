"""``launch``: the one way to run a scenario into a run folder (interim version).

Preflight first, so bad input leaves no run folder; then a fresh run folder, the run-folder
writer plus the caller's consumers, and the driver. Returns the end event, the folder and
the end state.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.core.control import RunControl
from plastilab.core.driver import drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import Event, RunFailed, RunInterrupted
from plastilab.core.preflight import preflight
from plastilab.core.scenario_file import Scenario
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.writer import RunFolderWriter


@dataclass(frozen=True)
class Launched:
    end: Event
    run_dir: Path
    state: str  # "finished" | "failed" | "interrupted"


def launch(
    scenario: Scenario,
    out: str | Path | None = None,
    *,
    consumers: Iterable[Any] = (),
    control: RunControl | None = None,
    threads: int | None = None,
    command: list[str] | None = None,
) -> Launched:
    import torch

    # One thread by default: small models gain little from more, and spinning threads
    # collapse when another process shares the cores.
    torch.set_num_threads(threads or 1)
    preflight(scenario)
    try:
        run_dir = new_run_dir(scenario.name, out)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot create a run folder there ({exc.strerror or exc}); choose another folder") from None
    writer = RunFolderWriter(run_dir, scenario, command=command if command is not None else list(sys.argv))
    end = drive(scenario, [writer, *consumers], run_dir=str(run_dir), control=control)
    state = "failed" if isinstance(end, RunFailed) else "interrupted" if isinstance(end, RunInterrupted) else "finished"
    return Launched(end=end, run_dir=run_dir, state=state)
