"""The lab's sessions, made: a training process started for a launch request, or a dashboard's
source over one run folder (followed while its writer lives) or several overlaid."""

from __future__ import annotations

import tomllib
from pathlib import Path

from plastilab.core.safe_text import shown
from plastilab.rundir.state import ABANDONED, RUNNING, read_state
from plastilab.runtime.run_state import RunState
from plastilab.runtime.session import Session
from plastilab.runtime.live_source import LiveSource
from plastilab.runtime.replay_sources import CompareSource, FolderSource
from plastilab.runtime.training_child import LaunchSpec
from plastilab.runtime.training_process import LaunchRequest, TrainingProcess


def start_training(request: LaunchRequest, runs_root: Path, threads: int | None, history_capacity: int) -> Session:
    """A training process for ``request``, started, and its session."""
    spec = LaunchSpec(
        scenario_path=str(request.scenario_path),
        overrides=tuple(request.overrides),
        device=request.device,
        runs_root=str(runs_root),
        threads=threads,
        resume_dir=str(request.resume_dir) if request.resume_dir is not None else None,
    )
    process = TrainingProcess(spec)
    state = RunState(history_capacity=history_capacity, live=True, state="starting")
    session = Session(LiveSource(process), state, title=scenario_name(request.scenario_path), request=request, process=process)
    process.start()
    state.log("info", f"training process {process.pid} started: {request.scenario_path}" + (f" with {' '.join(request.overrides)}" if request.overrides else ""))
    return session


def folder_session(run_dirs: list[Path], follow: bool | None, history_capacity: int) -> Session:
    """A session over one run folder (``follow``: None decides from its state) or several overlaid."""
    if len(run_dirs) == 1:
        folder = Path(run_dirs[0])
        if follow is None:  # an abandoned run is followed too: a resume of it shows here
            follow = read_state(folder) in (RUNNING, ABANDONED)
        source = FolderSource(folder, follow=follow, wait_for_resume=True)
        title = shown(f"{folder.parent.name}/{folder.name}", 120)
        state = RunState(history_capacity=history_capacity, live=follow)
        return Session(source, state, title=("watching " if follow else "") + title, folder=folder)
    source = CompareSource(run_dirs)
    state = RunState(history_capacity=history_capacity, overlay=True)
    title = " vs ".join(f"{chr(65 + i)}: {Path(d).parent.name} {Path(d).name}" for i, d in enumerate(run_dirs))
    return Session(source, state, title=title)


def scenario_name(path: Path | str) -> str:
    """The ``name`` a scenario file declares (a rerun's file is always called scenario.toml)."""
    try:
        name = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("name")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        name = None
    return name if isinstance(name, str) and name else Path(path).stem
