"""The one launcher: preflight, run folder, writer, drive; bad input leaves no folder behind."""

from __future__ import annotations

import json
import threading

import pytest

from plastilab.core.control import RunControl
from plastilab.core.errors import DatasetError, ScenarioError
from plastilab.core.events import RunFinished, RunInterrupted, Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.state import read_state
from plastilab.runtime.launcher import Launched, launch

SHORT = ["training.n_tasks=1", "training.steps_per_task=20", "training.log_every=10", "device=cpu"]


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def handle(self, event) -> None:
        self.events.append(event)


def test_launch_writes_the_folder_and_feeds_the_consumers(tiny_scenario_path, tmp_path):
    recorder = Recorder()
    launched = launch(load_scenario(tiny_scenario_path, SHORT), tmp_path, consumers=[recorder], command=["plastilab", "test"])
    assert isinstance(launched, Launched) and launched.state == "finished" and isinstance(launched.end, RunFinished)
    assert launched.run_dir.parent == tmp_path / "adam-tiny" and read_state(launched.run_dir) == "finished"
    assert json.loads((launched.run_dir / layout.META).read_text())["command"] == ["plastilab", "test"]
    assert recorder.events[0].run_dir == str(launched.run_dir) and recorder.events[-1] is launched.end
    logged = {(e.series, e.step) for e in recorder.events if isinstance(e, Scalars)}
    assert ("sgd", 20) in logged


def test_a_stop_ends_the_run_interrupted(tiny_scenario_path, tmp_path):
    control = RunControl(stop=threading.Event(), pause=threading.Event())

    class StopAtFirstNumbers:
        def handle(self, event) -> None:
            if isinstance(event, Scalars):
                control.stop.set()

    launched = launch(load_scenario(tiny_scenario_path, SHORT), tmp_path, consumers=[StopAtFirstNumbers()], control=control)
    assert launched.state == "interrupted" and isinstance(launched.end, RunInterrupted)
    assert read_state(launched.run_dir) == "interrupted"


def test_bad_input_fails_before_any_run_folder(tiny_scenario_path, tmp_path):
    missing = load_scenario(tiny_scenario_path, SHORT + ["data.dataset=cifar10", f"data.data_dir={tmp_path / 'none'}"])
    with pytest.raises(DatasetError):
        launch(missing, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ScenarioError, match="--out"):
        launch(load_scenario(tiny_scenario_path, SHORT), blocker)
