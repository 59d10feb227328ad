"""Helpers for the resume tests: stop a run after a checkpoint, and compare two run folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from plastilab.core.control import RunControl
from plastilab.core.events import Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.instruments.hessian_products import forget_choices
from plastilab.rundir.state import read_state
from plastilab.runtime import launcher
from plastilab.runtime.resume import load_checkpoint

from paths import SCENARIOS

TIME_KEYS = ("wall_time",)


class StopAfter:
    """Asks the run to stop once it has seen a ``Scalars`` at ``step`` or later (of a series
    ending in ``series``): a run stopped past a checkpoint has lines on disk that its resume
    must drop."""

    def __init__(self, control: RunControl, step: int, series: str = "") -> None:
        self.control = control
        self.step = step
        self.series = series

    def handle(self, event) -> None:
        if isinstance(event, Scalars) and event.step >= self.step and event.series.endswith(self.series):
            self.control.stop.set()


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIME_KEYS} for r in records]


def assert_same_run(resumed: Path, uninterrupted: Path) -> None:
    """Every number the two folders hold is the same: metrics, arrays (and their .npz), logs,
    the summary; wall times aside."""
    for name in (layout.METRICS, layout.ARRAYS, layout.LOG):
        mine, theirs = without_times(lines(resumed / name)), without_times(lines(uninterrupted / name))
        assert len(mine) == len(theirs), name
        for i, (a, b) in enumerate(zip(mine, theirs)):
            assert a == b, f"{name} line {i + 1}: {a} != {b}"
    for record in lines(resumed / layout.ARRAYS):
        with np.load(resumed / record["file"]) as a, np.load(uninterrupted / record["file"]) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                assert np.array_equal(a[key], b[key]), (record["file"], key)
    npz = lambda folder: sorted(p.relative_to(folder) for p in folder.glob(f"{layout.ARRAYS_DIR}/**/*.npz"))  # noqa: E731
    assert npz(resumed) == npz(uninterrupted)  # no stray .npz from the steps after the checkpoint
    summaries = [json.loads((folder / layout.SUMMARY).read_text()) for folder in (resumed, uninterrupted)]
    for summary in summaries:
        summary.pop("wall_seconds")
    assert summaries[0] == summaries[1]


# The block-MDP tiny scenario shortened to stop and resume in seconds (tests of resuming and of
# populations resume it).
BLOCK_MDP = [
    "checkpoint_every=50",
    "training.total_steps=130",
    "data.n_images=200",
    "agents.mlp.learning_starts=30",
    "instruments.probe.every=60",
    "instruments.stats.every=40",
    "instruments.covariance.every=60",
    # Off: the Hessian logs how long each product method took (times differ between the two
    # runs); the test of its method choice below makes that timing deterministic.
    "instruments.hessian.every=0",
]


def run_twice(tmp_path, file: str, overrides: list[str], stop_step: int, stop_series: str = "", seeds=None):
    """The scenario run to its end, and run stopped at ``stop_step`` then resumed."""
    scenario = load_scenario(SCENARIOS / file, overrides, seeds=seeds, device="cpu")  # bit for bit: the CPU's promise
    forget_choices()  # each start as in a fresh process: nothing measured yet
    uninterrupted = launcher.launch(scenario, tmp_path / "whole")
    assert uninterrupted.state == "finished"
    control = RunControl()
    forget_choices()
    stopped = launcher.launch(scenario, tmp_path / "stopped", consumers=[StopAfter(control, stop_step, stop_series)], control=control)
    assert stopped.state == "interrupted" and read_state(stopped.run_dir) == "interrupted"
    saved = load_checkpoint(stopped.run_dir)
    # The stop came after the checkpoint: the files hold lines it does not vouch for.
    assert (stopped.run_dir / layout.METRICS).stat().st_size > saved["files"][layout.METRICS]
    forget_choices()
    resumed = launcher.resume(stopped.run_dir)
    assert resumed.state == "finished" and resumed.run_dir == stopped.run_dir
    assert read_state(resumed.run_dir) == "finished"
    return uninterrupted.run_dir, resumed.run_dir, saved


# An adam-tiny run stopped after its checkpoint, for the tests that damage its folder and resume.
TINY = SCENARIOS / "adam-tiny.toml"
SMALL = ["checkpoint_every=40", "data.n_images=64", "model.hidden=[16, 16]", "training.n_tasks=2", "training.steps_per_task=60"]


def stopped_run(root: Path, overrides=SMALL, step: int = 50) -> Path:
    control = RunControl()
    scenario = load_scenario(TINY, list(overrides))
    return launcher.launch(scenario, root, consumers=[StopAfter(control, step)], control=control).run_dir


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def copy_of(stopped: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(stopped, tmp_path / "run"))
