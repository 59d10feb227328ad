"""Fixtures for the lab's tests: a recorded run folder, a synthetic one with arrays, helpers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
RUNS = DATA / "runs"
RECORDED = RUNS / "adam-tiny" / "20261125-093820-444e4e"  # adam-tiny, 6 tasks, a real run
RECORDED_SHORT = RUNS / "adam-tiny" / "20261125-093838-e66aea"  # adam-tiny, 3 tasks, seed 1
SCENARIOS = DATA / "scenarios"
KINDS = DATA / "kinds"  # one small recorded run of each other kind (a runs root of its own)
BLOCK_MDP_RUN = KINDS / "block-mdp-tiny" / "20261201-155743-2494b1"  # 200 steps, every instrument
INTERVENTIONS_RUN = KINDS / "interventions-quick" / "20261201-155824-582b63"  # 3 x 2 seeds, 4 tasks
# atari-tiny on ALE Pong, 300 steps, probe at 0/150/300 (with per-target curves), Hessian every 100
ATARI_RUN = KINDS / "atari-tiny" / "20261201-181859-6c5763"


@pytest.fixture
def recorded_run() -> Path:
    return RECORDED


@pytest.fixture
def recorded_runs_root() -> Path:
    return RUNS


@pytest.fixture
def test_scenarios() -> Path:
    return SCENARIOS


def write_instrument_run(run_dir: Path) -> Path:
    """A small run folder with every kind of array event, written by the real writer."""
    from plastilab.core.events import Curve, Histogram, Log, Matrix, RunFinished, RunStarted, Scalars, TaskBoundary
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir.writer import RunFolderWriter

    scenario = load_scenario(SCENARIOS / "adam-tiny.toml")
    writer = RunFolderWriter(run_dir, scenario, command=["test"])
    series = ("adam-default", "sgd")
    writer.handle(RunStarted("instruments", "adam_instability", series, 200, "cpu", 0, str(run_dir)))
    rng = np.random.default_rng(0)
    for step in range(0, 201, 10):
        if step % 100 == 0:
            writer.handle(TaskBoundary(step, step // 100))
        for i, name in enumerate(series):
            loss = 2.3 * np.exp(-(step % 100) / (30 + 40 * i)) + 0.05 * i
            writer.handle(Scalars(step, name, {"train/loss": float(loss), "units/dead_fraction": step / 400 + 0.1 * i}, 1000.0 + step / 50))
    for i, name in enumerate(series):
        edges = np.linspace(-1, 5 + i, 31)
        counts = np.exp(-((edges[:-1] - 1) ** 2)) * 100 + 1
        writer.handle(Histogram(200, name, "hessian/density", counts, edges))
        x = np.arange(20, dtype=float)
        writer.handle(Curve(200, name, "probe/curve", x, 2.3 * np.exp(-x / (3 + 5 * i))))
        a = rng.standard_normal((12, 12))
        writer.handle(Matrix(200, name, "gradients/covariance", np.corrcoef(a + (1 + i) * a[:1]), None))
    writer.handle(Log("warning", "an example warning from the run", 150))
    writer.handle(RunFinished(200))
    return run_dir


@pytest.fixture
def instrument_run(tmp_path) -> Path:
    return write_instrument_run(tmp_path / "runs" / "instruments" / "20250101-000000-abc123")


CHECKPOINT_STEPS = (0, 50, 100, 150, 200, 250, 300)
PROBE_TARGETS = 4


def checkpoint_density(step: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """A density whose bulk widens with the step, plus a wider last bin holding outliers."""
    spread = 1.0 + step / 100 + 0.5 * i
    bulk = np.linspace(-0.5 * spread, 2.0 * spread, 31)
    edges = np.append(bulk, 10.0 + step / 10)  # the outer bin: up to the top eigenvalue
    centres = (bulk[:-1] + bulk[1:]) / 2
    counts = np.append(np.exp(-(centres**2) / spread) * 1000 + 1, 2.0)
    return counts, edges


def checkpoint_target_curves(step: int, i: int) -> np.ndarray:
    """(targets, 20) probe losses: slower and more spread out at later checkpoints."""
    x = np.arange(1, 21, dtype=float)
    rate = (1 + i) / (1 + step / 100)
    return np.stack([2.0 * np.exp(-rate * x / 5) * (1 + k * step / 600) for k in range(PROBE_TARGETS)])


def write_checkpoint_run(run_dir: Path) -> Path:
    """A run folder with the probe's and the Hessian's arrays at seven checkpoints, written by
    the real writer; ``checkpoint_density`` and ``checkpoint_target_curves`` give its numbers."""
    from plastilab.core.events import Curve, Histogram, Matrix, RunFinished, RunStarted, Scalars
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir.writer import RunFolderWriter

    writer = RunFolderWriter(run_dir, load_scenario(SCENARIOS / "adam-tiny.toml"), command=["test"])
    series = ("adam-default", "sgd")
    writer.handle(RunStarted("instruments", "adam_instability", series, 300, "cpu", 0, str(run_dir)))
    for step in CHECKPOINT_STEPS:
        for i, name in enumerate(series):
            writer.handle(Scalars(step, name, {"train/loss": 1.0 / (1 + step + i)}, 1000.0 + step / 50))
            counts, edges = checkpoint_density(step, i)
            writer.handle(Histogram(step, name, "hessian/density", counts, edges))
            targets = checkpoint_target_curves(step, i)
            x = np.arange(1, targets.shape[1] + 1, dtype=float)
            writer.handle(Curve(step, name, "probe/curve", x, targets.mean(axis=0)))
            labels = tuple(f"target {k + 1}" for k in range(PROBE_TARGETS))
            writer.handle(Matrix(step, name, "probe/target_curves", targets, labels))
    writer.handle(RunFinished(300))
    return run_dir


@pytest.fixture
def checkpoint_run(tmp_path) -> Path:
    return write_checkpoint_run(tmp_path / "runs" / "instruments" / "20250101-000000-def456")
