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
