"""The driver, fed by a scripted runner in place of a scenario's: what it emits, in what order,
how every way of ending becomes one end event, and that a stop is obeyed at once.

The scripted runner stands in for the scenario kind's runner (``SCENARIO_KINDS`` patched for the
test), so these tests take milliseconds and check the driver alone (they are its tests in
`make mutation`).
"""

from __future__ import annotations

import dataclasses
import random
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from plastilab.core import driver as driver_module
from plastilab.core.context import RunContext
from plastilab.core.control import RunControl
from plastilab.core.driver import drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import Log, RunFailed, RunFinished, RunInterrupted, RunStarted, Scalars, TaskBoundary
from plastilab.core.scenario_file import load_scenario

from paths import SCENARIOS

TINY = SCENARIOS / "adam-tiny.toml"


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def handle(self, event) -> None:
        self.events.append(event)


@pytest.fixture
def scenario():
    return load_scenario(TINY, ["device=cpu", "seed=5"])


def use_runner(monkeypatch, runner) -> None:
    """Make the scenario's kind run ``runner`` (config, context) -> generator of events."""
    kind = driver_module.SCENARIO_KINDS["adam_instability"]
    scripted = SimpleNamespace(load_schema=kind.load_schema, load_runner=lambda: runner)
    monkeypatch.setitem(driver_module.SCENARIO_KINDS, "adam_instability", scripted)


def test_events_come_in_order_between_run_started_and_the_end(scenario, monkeypatch):
    seen = {}

    def runner(config, context):
        seen["config"], seen["context"] = config, context
        yield TaskBoundary(0, 0)
        yield Scalars(10, "sgd", {"train/loss": 1.0}, 1.0)
        yield Scalars(30, "sgd", {"train/loss": 0.5}, 2.0)
        yield Scalars(20, "adam-default", {"train/loss": 0.7}, 3.0)  # a series that lags
        yield TaskBoundary(40, 1)  # not a scalar: does not move the last step
        yield Log("info", "done")
        return {"ranking": ["sgd"]}

    use_runner(monkeypatch, runner)
    first, second = Recorder(), Recorder()
    end = drive(scenario, [first, second], run_dir="/runs/x")
    assert first.events == second.events  # every consumer sees every event
    assert first.events[0] == RunStarted(
        scenario="adam-tiny",
        kind="adam_instability",
        series=("adam-default", "adam-beta2-eps", "sgd"),
        total_steps=450,  # 3 tasks of 150 steps
        device="cpu",
        seed=5,
        run_dir="/runs/x",
    )
    assert [type(e).__name__ for e in first.events[1:-1]] == ["TaskBoundary", "Scalars", "Scalars", "Scalars", "TaskBoundary", "Log"]
    assert end == RunFinished(30, {"ranking": ["sgd"]}) and first.events[-1] is end
    assert seen["config"] is scenario.config
    assert seen["context"] == RunContext(device="cpu", seed=5, source=str(TINY))


def test_a_scenario_without_a_file_is_named_by_its_name(scenario, monkeypatch):
    seen = {}

    def runner(config, context):
        seen["context"] = context
        return
        yield  # a generator

    use_runner(monkeypatch, runner)
    drive(dataclasses.replace(scenario, path=None), [])
    assert seen["context"] == RunContext(device="cpu", seed=5, source="adam-tiny")


def test_a_device_that_is_not_there_fails_the_run_naming_the_file_before_it_starts(scenario, monkeypatch):
    use_runner(monkeypatch, endless([]))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    recorder = Recorder()
    end = drive(load_scenario(TINY, ["device=cuda"]), [recorder])
    assert end == RunFailed(0, f"{TINY}: device: found 'cuda' but no CUDA GPU is visible; use --device auto or cpu")
    assert recorder.events == [end]  # no RunStarted: the run never began


def test_a_runner_that_returns_nothing_finishes_with_an_empty_summary(scenario, monkeypatch):
    def runner(config, context):
        yield Scalars(5, "sgd", {"train/loss": 1.0}, 1.0)

    use_runner(monkeypatch, runner)
    assert drive(scenario, []) == RunFinished(5, {})


def test_the_run_is_seeded_before_the_runner_starts(scenario, monkeypatch):
    drawn = {}

    def runner(config, context):
        drawn["python"], drawn["numpy"], drawn["torch"] = random.random(), np.random.rand(), torch.rand(1).item()
        return
        yield  # a generator

    use_runner(monkeypatch, runner)
    random.seed(123), np.random.seed(123), torch.manual_seed(123)
    drive(scenario, [])
    assert drawn["python"] == random.Random(5).random()
    assert drawn["numpy"] == np.random.RandomState(5).rand()
    assert drawn["torch"] == torch.rand(1, generator=torch.Generator().manual_seed(5)).item()


def endless(closed: list):
    """A runner that goes on far longer than any test waits (bounded, so a driver that ignores
    a stop fails the test instead of hanging it), recording its own close."""

    def runner(config, context):
        try:
            for step in range(1, 1001):
                yield Scalars(step, "sgd", {"train/loss": 1.0 / step}, float(step))
        finally:
            closed.append(True)

    return runner


def test_a_stop_ends_the_run_interrupted_after_the_event_that_asked(scenario, monkeypatch):
    closed: list = []
    use_runner(monkeypatch, endless(closed))
    control = RunControl(stop=threading.Event(), pause=threading.Event())

    class StopAtStep3(Recorder):
        def handle(self, event) -> None:
            super().handle(event)
            if isinstance(event, Scalars) and event.step == 3:
                control.stop.set()

    consumer = StopAtStep3()
    end = drive(scenario, [consumer], control=control)
    assert end == RunInterrupted(3)
    assert [e.step for e in consumer.events if isinstance(e, Scalars)] == [1, 2, 3]  # not one step more
    assert consumer.events[-1] is end
    assert closed == [True]  # the runner's generator was closed (its finally ran)


def test_a_stop_while_paused_ends_the_run_instead_of_waiting(scenario, monkeypatch):
    use_runner(monkeypatch, endless([]))
    control = RunControl(stop=threading.Event(), pause=threading.Event())

    class PauseThenStop(Recorder):
        def handle(self, event) -> None:
            super().handle(event)
            if isinstance(event, Scalars) and event.step == 2:
                control.pause.set()
                threading.Timer(0.2, control.stop.set).start()

    consumer = PauseThenStop()
    end = drive(scenario, [consumer], control=control)
    assert end == RunInterrupted(2)
    assert [e.step for e in consumer.events if isinstance(e, Scalars)] == [1, 2]


def test_a_run_that_fails_before_its_first_numbers_ends_at_step_0(scenario, monkeypatch):
    def runner(config, context):
        yield TaskBoundary(0, 0)
        raise ScenarioError("adam-tiny.toml: data: no images")

    use_runner(monkeypatch, runner)
    assert drive(scenario, []) == RunFailed(0, "adam-tiny.toml: data: no images")


def test_bad_input_from_the_runner_fails_the_run_with_its_one_line(scenario, monkeypatch):
    def runner(config, context):
        yield Scalars(10, "sgd", {"train/loss": 1.0}, 1.0)
        raise ScenarioError("adam-tiny.toml: training.lr: must be positive")

    use_runner(monkeypatch, runner)
    recorder = Recorder()
    end = drive(scenario, [recorder])
    assert end == RunFailed(10, "adam-tiny.toml: training.lr: must be positive", details="")
    assert recorder.events[-1] is end


def test_a_bug_fails_the_run_with_one_line_and_keeps_the_traceback(scenario, monkeypatch):
    def runner(config, context):
        yield Scalars(7, "sgd", {"train/loss": 1.0}, 1.0)
        raise ZeroDivisionError("division by zero")

    use_runner(monkeypatch, runner)
    end = drive(scenario, [])
    assert isinstance(end, RunFailed) and end.step == 7
    assert end.error == "ZeroDivisionError: division by zero"
    assert end.details.startswith("Traceback (most recent call last):") and "ZeroDivisionError: division by zero" in end.details


def test_ctrl_c_inside_the_runner_ends_the_run_interrupted(scenario, monkeypatch):
    def runner(config, context):
        yield Scalars(4, "sgd", {"train/loss": 1.0}, 1.0)
        raise KeyboardInterrupt

    use_runner(monkeypatch, runner)
    recorder = Recorder()
    assert drive(scenario, [recorder]) == RunInterrupted(4)
    assert isinstance(recorder.events[-1], RunInterrupted)


def test_a_second_ctrl_c_while_the_end_is_written_still_delivers_the_end(scenario, monkeypatch):
    def runner(config, context):
        yield Scalars(4, "sgd", {"train/loss": 1.0}, 1.0)

    use_runner(monkeypatch, runner)

    class InterruptedOnce(Recorder):
        def handle(self, event) -> None:
            super().handle(event)
            if isinstance(event, RunFinished) and len([e for e in self.events if e is event]) == 1:
                raise KeyboardInterrupt

    consumer = InterruptedOnce()
    end = drive(scenario, [consumer])
    assert end == RunFinished(4, {})
    assert [e for e in consumer.events if isinstance(e, RunFinished)] == [end, end]
