"""A population's one event stream, split into its trials' own streams.

Several trials of a study train as one run (``launcher.launch_population``): one process, one
generator, every trial's series in it under the merged run's names. ``PopulationDemux`` is that
run's one consumer: it hands each series' events to the writer of the trial it belongs to,
renamed to what the trial run alone would call it, so every trial's folder is the folder of
that trial alone (wall times aside). Each trial ends on its own: a ``SeriesFailed`` (its loss
became NaN) or a write that failed ends that trial failed while its neighbours go on; the run's
own end ends every trial still going, each at its own last step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.core.errors import PlastilabError
from plastilab.core.events import Event, Log, RunFailed, RunFinished, RunInterrupted, RunStarted, Scalars, SeriesFailed
from plastilab.core.scenario_file import Scenario
from plastilab.core.series_names import split_seeded_name


@dataclass(frozen=True)
class PackedTrial:
    """One trial inside a population's run."""

    scenario: Scenario  # the trial's own scenario: its run folder's scenario.toml, meta, series
    series: dict[str, str]  # the run's series name -> the trial's own
    # Text to put back in a message the run wrote for this trial (an error naming its series
    # or its agent's key), longest first so that `a1/td/s1` is not read inside `a1/td/s10`.
    renames: tuple[tuple[str, str], ...] = ()


@dataclass
class _Member:
    trial: PackedTrial
    run_dir: Path
    writer: Any  # RunFolderWriter: the launcher makes it
    last_step: int = 0
    end: Event | None = None

    def rename(self, text: str) -> str:
        for old, new in self.trial.renames:
            text = text.replace(old, new)
        return text


class PopulationDemux:
    """The consumer of a population's run; ``add`` each trial (its folder and writer) first."""

    def __init__(self) -> None:
        self.members: list[_Member] = []
        self._by_series: dict[str, _Member] = {}
        # A series' name without its seed -> the trial of that name that last had an event: a
        # runner whose seeds run one after another names the series in a message without it.
        self._latest: dict[str, _Member] = {}

    def add(self, trial: PackedTrial, run_dir: Path, writer: Any) -> None:
        member = _Member(trial, run_dir, writer)
        self.members.append(member)
        self._by_series.update({name: member for name in trial.series})

    def _about(self, message: str) -> _Member | None:
        """The trial a message is about: one that starts with one of its series' names."""
        head = message.split(":", 1)[0]
        return self._by_series.get(head) or self._latest.get(head)

    @property
    def going(self) -> list[_Member]:
        return [m for m in self.members if m.end is None]

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            for member in self.going:
                config = member.trial.scenario.config
                own = dataclasses.replace(
                    event, scenario=config.name, series=tuple(config.series()), total_steps=config.total_steps(),
                    seed=config.seed, run_dir=str(member.run_dir), resumed_from=None,
                )
                self._give(member, own)
        elif isinstance(event, SeriesFailed):
            member = self._by_series.get(event.series)
            if member is not None and member.end is None:
                self.end(member, RunFailed(member.last_step, member.rename(event.error)))
        elif isinstance(event, (RunFinished, RunFailed, RunInterrupted)):
            for member in self.going:
                self.end(member, self.ended_as(member, event))
        elif isinstance(event, Log):
            about = self._about(event.message)
            for member in [about] if about is not None else self.members:
                if member.end is None:
                    self._give(member, dataclasses.replace(event, message=member.rename(event.message)))
        elif getattr(event, "series", None) is None:  # a task boundary of every series
            for member in self.going:
                self._give(member, event)
        else:
            member = self._by_series.get(event.series)
            if member is None:  # the merge and the runner disagree on names: no trial gets its numbers
                raise RuntimeError(f"the population's run wrote series {event.series!r}, which none of its trials has")
            if member.end is not None:
                return  # its trial failed (a NaN); the runner stops its series, this drops any straggler
            if isinstance(event, Scalars):
                member.last_step = max(member.last_step, event.step)
            self._latest[split_seeded_name(event.series)[0]] = member
            self._give(member, dataclasses.replace(event, series=member.trial.series[event.series]))

    @staticmethod
    def ended_as(member: _Member, event: RunFinished | RunFailed | RunInterrupted) -> Event:
        """The run's end for one trial: at the trial's own last step, its own names in the error."""
        if isinstance(event, RunFinished):
            return RunFinished(member.last_step, event.summary)
        if isinstance(event, RunFailed):
            return RunFailed(member.last_step, member.rename(event.error), event.details)
        return RunInterrupted(member.last_step)

    def end(self, member: _Member, end: Event) -> None:
        member.end = end
        try:
            member.writer.handle(end)
        except Exception:  # noqa: BLE001 - the writer records its own failure; the others go on
            pass

    def _give(self, member: _Member, event: Event) -> None:
        try:
            member.writer.handle(event)
        except PlastilabError as exc:  # its folder cannot be written (a full disk): that trial fails
            self.end(member, RunFailed(member.last_step, str(exc)))
