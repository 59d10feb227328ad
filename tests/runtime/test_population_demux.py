"""The population demux on hand-made events: who gets what, under which name, and when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from plastilab.core.events import Log, RunFailed, RunFinished, RunInterrupted, RunStarted, Scalars, SeriesFailed
from plastilab.core.scenario_file import Scenario, validate_scenario
from plastilab.runtime.demux import PackedTrial, PopulationDemux


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def handle(self, event) -> None:
        self.events.append(event)


def trial(name: str, seed: int) -> Scenario:
    raw = {"kind": "block_mdp", "name": name, "seed": seed, "agents": {"mlp": {"hidden": [8]}}, "training": {"total_steps": 30}}
    return Scenario(None, validate_scenario(raw, name))


def two_trials() -> tuple[PopulationDemux, Recorder, Recorder]:
    demux, first, second = PopulationDemux(), Recorder(), Recorder()
    renames = lambda there: ((there, "mlp/td"), (there.rsplit("/s", 1)[0], "mlp/td"), ("agents.a0.", "agents.mlp."))  # noqa: E731
    demux.add(PackedTrial(trial("s.t000", 0), {"a0/td/s0": "mlp/td"}, renames("a0/td/s0")), Path("t000"), first)
    demux.add(PackedTrial(trial("s.t001", 1), {"a0/td/s1": "mlp/td"}, renames("a0/td/s1")), Path("t001"), second)
    demux.handle(RunStarted("s.t000", "block_mdp", ("a0/td/s0", "a0/td/s1"), 30, "cpu", 0))
    return demux, first, second


def test_each_trial_gets_its_own_start_and_series_under_its_own_name():
    demux, first, second = two_trials()
    demux.handle(Scalars(10, "a0/td/s1", {"td/loss": 0.5}, 1.0))
    demux.handle(Scalars(20, "a0/td/s0", {"td/loss": 0.25}, 2.0))
    assert first.events[0].series == ("mlp/td",) and first.events[0].seed == 0
    assert second.events[0].scenario == "s.t001" and second.events[0].seed == 1 and second.events[0].run_dir == "t001"
    assert second.events[1] == Scalars(10, "mlp/td", {"td/loss": 0.5}, 1.0)
    assert first.events[1] == Scalars(20, "mlp/td", {"td/loss": 0.25}, 2.0)
    demux.handle(RunFinished(20, {"k": 1}))
    assert first.events[-1] == RunFinished(20, {"k": 1}) and second.events[-1] == RunFinished(10, {"k": 1})  # own last steps


def test_a_failed_series_ends_its_trial_alone_and_the_run_end_the_others():
    demux, first, second = two_trials()
    demux.handle(Scalars(10, "a0/td/s0", {"td/loss": 0.5}, 1.0))
    demux.handle(SeriesFailed(20, "a0/td/s0", "s.t000: agents.a0.learning_rate: the TD loss of series 'a0/td/s0' became nan"))
    assert first.events[-1] == RunFailed(10, "s.t000: agents.mlp.learning_rate: the TD loss of series 'mlp/td' became nan")
    demux.handle(Scalars(30, "a0/td/s0", {"td/loss": 0.5}, 1.0))  # a straggler after its end: dropped
    demux.handle(RunInterrupted(30))
    assert len(first.events) == 3 and second.events[-1] == RunInterrupted(0)


def test_a_message_about_a_series_goes_to_its_trial_others_to_every_trial():
    demux, first, second = two_trials()
    demux.handle(Scalars(10, "a0/td/s1", {"td/loss": 0.5}, 1.0))
    # A runner whose seeds run one after another names the series without its seed.
    demux.handle(Log("warning", "a0/td: parameters are not finite", 10))
    assert second.events[-1].message == "mlp/td: parameters are not finite" and not isinstance(first.events[-1], Log)
    demux.handle(Log("info", "the images are loaded"))
    assert first.events[-1].message == second.events[-1].message == "the images are loaded"


def test_a_series_that_belongs_to_no_trial_is_an_error_not_a_silent_loss():
    demux, _, _ = two_trials()
    with pytest.raises(RuntimeError, match="a1/td/s0"):
        demux.handle(Scalars(10, "a1/td/s0", {"td/loss": 0.5}, 1.0))
