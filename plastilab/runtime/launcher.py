"""The one way to start a run: preflight, run folder, writer, drive.

``plastilab run``, the lab's training process and the benchmarks all call ``launch``; a study's
worker on another machine will too. It is the only place that makes a run folder and attaches
the run-folder writer, so every run's folder is made the same way.

    scenario = load_scenario("scenarios/adam-quick.toml", ["training.lr=3e-4"], seed=3)
    launched = launch(scenario, out=Path("runs"), consumers=[progress])
    launched.state, launched.run_dir, launched.end    # "finished", runs/adam-quick/2026..., RunFinished(...)

    relaunched = resume(launched.run_dir)    # an interrupted or abandoned run with a checkpoint

    # A study's population: several trials as one run, each with its own run folder.
    ends = launch_population(merged, [PackedTrial(trial_scenario, series_map), ...], out)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from plastilab.core.control import RunControl
from plastilab.core.driver import Consumer, drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import Event, RunFailed, RunInterrupted, RunStarted, Scalars
from plastilab.core.scenario_file import Scenario, load_scenario, resolved_dict
from plastilab.rundir import layout, state
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.writer import RunFolderWriter
from plastilab.runtime.checkpoint_match import scenario_text
from plastilab.runtime.checkpoint_save import CheckpointError, Checkpoints
from plastilab.runtime.demux import PackedTrial, PopulationDemux
from plastilab.runtime.preflight import preflight
from plastilab.runtime.resume import ResumePoint, cannot_write, open_resume, resume_claim, rewind
from plastilab.runtime.replay_sources import FolderSource
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
    return _launch(scenario, lambda: _new_run_folder(scenario, out), None, consumers, control, threads, command)


def resume(
    run_dir: str | Path,
    *,
    consumers: Iterable[Consumer] = (),
    control: RunControl | None = None,
    threads: int | None = None,
    command: Sequence[str] | None = None,
    history: bool = False,
) -> Launched:
    """Continue the interrupted, abandoned or failed run in ``run_dir`` from its checkpoint, in
    the same folder: its files are cut back to the checkpoint and appended to, so they end as an
    uninterrupted run's would (wall times aside). The arguments are ``launch``'s; with
    ``history`` the consumers see the run's events up to the checkpoint right after RunStarted
    (read back from the folder), so a dashboard draws the whole run, not only its new steps.

    A folder that cannot be resumed (still running, finished, read-only, no checkpoint, a
    checkpoint that is damaged or not plain data, a scenario.toml or data file changed since the
    checkpoint) raises a one-line ``PlastilabError`` and is left as it was."""
    read: list[Scenario] = []

    def resolved() -> dict:  # read once the checkpoint is known to be one: its refusal comes first
        read.append(load_scenario(Path(run_dir) / layout.SCENARIO))
        return resolved_dict(read[0].config)

    point = open_resume(run_dir, resolved)
    scenario = read[0]
    if history:
        consumers = [_HistoryFirst(consumer, point.run_dir) for consumer in consumers]
    return _launch(scenario, lambda: _claim(point), point, consumers, control, threads, command)


class _HistoryFirst:
    """A consumer of a resumed run that gets, right after RunStarted, the events the folder
    holds up to the checkpoint (the writer has written nothing new yet)."""

    def __init__(self, consumer: Consumer, run_dir: Path) -> None:
        self.consumer = consumer
        self.run_dir = run_dir

    def handle(self, event: Event) -> None:
        self.consumer.handle(event)
        if isinstance(event, RunStarted):
            for past in FolderSource(self.run_dir).poll(0):
                if isinstance(past, Scalars):
                    past = replace(past, wall_time=0.0)  # no time: a speed counts the resumed steps only
                if not isinstance(past, RunStarted):
                    self.consumer.handle(past)


def _launch(
    scenario: Scenario,
    make_folder: Callable[[], Path],
    resuming: ResumePoint | None,
    consumers: Iterable[Consumer],
    control: RunControl | None,
    threads: int | None,
    command: Sequence[str] | None,
) -> Launched:
    import torch  # deferred: the lab's app imports this module and must not pay for torch

    if threads is not None and threads < 1:
        raise ScenarioError(f"threads: found {threads}; allowed: a number >= 1")
    if threads is not None and threads != scenario.config.threads:
        scenario = Scenario(scenario.path, scenario.config.model_copy(update={"threads": threads}))
    preflight(scenario)  # bad input fails before a run folder exists (or is touched): nothing half-made is left
    consumers = list(consumers)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(scenario.config.threads)
    writer: RunFolderWriter | None = None
    try:
        with signals_held():  # a signal now waits until the folder is whole, then lands below
            run_dir = make_folder()
            writer = RunFolderWriter(
                run_dir, scenario, command=list(command) if command is not None else None, resuming=resuming is not None
            )
        checkpoints = _checkpoints(scenario, run_dir, resuming)
        end = drive(scenario, [writer, *consumers], run_dir=str(run_dir), control=control, checkpoints=checkpoints)
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


def launch_population(
    merged: Scenario,
    trials: Sequence[PackedTrial],
    out: str | Path | None = None,
    *,
    control: RunControl | None = None,
    threads: int | None = None,
    command: Sequence[str] | None = None,
) -> list[Launched]:
    """Run ``merged``, the one scenario that trains every trial of a study's population, with a
    run folder for each trial under ``out``, made and written as ``launch`` makes a trial's own
    (``runtime.demux`` renames each series to the trial's name); one ``Launched`` a trial, in order.

    A trial's NaN or a write that fails ends that trial failed; the others go on. Bad input
    raises before any folder exists, as in ``launch``; ``merged`` has no checkpoints."""
    import torch  # deferred: the lab's app imports this module and must not pay for torch

    if threads is not None and threads < 1:
        raise ScenarioError(f"threads: found {threads}; allowed: a number >= 1")
    if threads is not None and threads != merged.config.threads:
        merged = Scenario(merged.path, merged.config.model_copy(update={"threads": threads}))
    preflight(merged)
    demux = PopulationDemux()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(merged.config.threads)
    try:
        with signals_held():
            for trial in trials:
                run_dir = _new_run_folder(trial.scenario, out)
                demux.add(trial, run_dir, RunFolderWriter(run_dir, trial.scenario, command=list(command) if command is not None else None))
        drive(merged, [demux], control=control, series_may_fail=True)
    except KeyboardInterrupt:
        if not demux.members:
            raise
        for member in demux.going:  # as in ``_launch``: every folder ends truthfully
            demux.end(member, RunInterrupted(member.last_step))
    except BaseException as exc:  # a folder could not be made: the ones made end failed, not running
        for member in demux.going:
            demux.end(member, RunFailed(0, f"the population could not start: {exc}"))
        raise
    finally:
        torch.set_num_threads(threads_before)
    return [Launched(end=m.end, run_dir=m.run_dir, state=state.state_of(m.end)) for m in demux.members]


def _checkpoints(scenario: Scenario, run_dir: Path, resuming: ResumePoint | None) -> Checkpoints | None:
    every = scenario.config.checkpoint_every
    if not every:
        return None
    resumed = resuming.payload if resuming is not None else None
    return Checkpoints(run_dir, every, resumed=resumed, scenario=scenario_text(resolved_dict(scenario.config)))


def _claim(point: ResumePoint) -> Path:
    """The resumed run's folder: status.json says running (this process) before the files are
    cut back to the checkpoint, so no other process resumes it meanwhile; the claim makes the
    check and that write one step for processes resuming it at the same moment."""
    try:
        with resume_claim(point.run_dir):
            state.write_running(point.run_dir, point.step)
        rewind(point)
    except OSError as exc:  # a folder made read-only, or a full disk, since the checks
        raise CheckpointError(f"{point.run_dir}: cannot resume it: {cannot_write(point.run_dir, exc)}") from None
    return point.run_dir


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
