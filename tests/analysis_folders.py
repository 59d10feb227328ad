"""Run and study folders for the analysis tests, written by the real run-folder writer from
events made by hand: every number is known in advance, and building one takes milliseconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from plastilab.core.events import Curve, Histogram, Matrix, RunFinished, RunStarted, Scalars, TaskBoundary
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
STEPS_PER_TASK = 20
N_TASKS = 2
LOG_EVERY = 5
CHECKPOINTS = (0, 20, 40)


def final_loss(variant: str, seed: int, task: int) -> float:
    """The task/final_loss each hand-made series reports: it grows with the task for adam."""
    return (0.5 + task if variant == "adam-default" else 0.2) + 0.1 * seed


def plasticity(variant: str, seed: int, step: int, width: int = 32) -> float:
    return (step / 40) * (1.0 if variant == "adam-default" else 0.2) * (32 / width) + 0.01 * seed


def weight_norm(variant: str, seed: int, step: int) -> float:
    return 10.0 + step * (0.5 if variant == "adam-default" else 0.1) + 0.3 * seed


def write_run(path: Path, variants=("adam-default", "sgd"), seeds=(0, 1), width: int = 32, nan_at: int | None = None) -> Path:
    """A finished run folder: train/loss every LOG_EVERY steps, per-task final losses, probe,
    weight norms and arrays at CHECKPOINTS. Several seeds name series ``<variant>/s<seed>``."""
    overrides = [f"model.hidden=[{width}, {width}]", f"training.n_tasks={N_TASKS}", f"training.steps_per_task={STEPS_PER_TASK}"]
    scenario = load_scenario(SCENARIOS / "adam-tiny.toml", overrides)
    pairs = [(v, s) for v in variants for s in seeds]
    name = {(v, s): f"{v}/s{s}" if len(seeds) > 1 else v for v, s in pairs}
    writer = RunFolderWriter(path, scenario, command=["test"])
    total = N_TASKS * STEPS_PER_TASK
    writer.handle(RunStarted("adam-tiny", "adam_instability", tuple(name.values()), total, "cpu", seeds[0], str(path)))
    for step in range(0, total + 1, LOG_EVERY):
        if step % STEPS_PER_TASK == 0 and step < total:
            writer.handle(TaskBoundary(step, step // STEPS_PER_TASK))
        for (variant, seed), series in name.items():
            values: dict[str, float] = {}
            if step > 0:
                values["train/loss"] = math.nan if step == nan_at else 2.0 - step / 100 + 0.1 * seed
            if step > 0 and step % STEPS_PER_TASK == 0:
                values["task/final_loss"] = final_loss(variant, seed, step // STEPS_PER_TASK)
            if step in CHECKPOINTS:
                values["probe/plasticity_loss"] = plasticity(variant, seed, step, width)
                values["weights/norm"] = weight_norm(variant, seed, step)
            if values:
                writer.handle(Scalars(step, series, values, 1000.0 + step))
            if step in CHECKPOINTS:
                for event in array_events(step, series):
                    writer.handle(event)
    writer.handle(RunFinished(total))
    return path


def array_events(step: int, series: str):
    edges = np.linspace(-1.0, 3.0 + step / 10, 9)
    counts = np.array([0.0, 1, 4, 9, 4, 1, 0, 2 + step / 20])
    matrix = np.array([[1.0, 0.5, -0.2], [0.5, 1.0, 0.1], [-0.2, 0.1, 1.0]])
    curve = np.array([1.0, 0.5, 0.3, 0.2, 0.1]) * (1 + step / 40)
    return [
        Histogram(step, series, "hessian/density", counts, edges),
        Matrix(step, series, "gradients/covariance", matrix, ("0", "1", "2")),
        Curve(step, series, "probe/curve", np.arange(1.0, 6.0), curve),
        # three probe targets around the mean curve: lowest 0.8x, highest 1.2x it
        Matrix(step, series, "probe/target_curves", np.stack([0.8 * curve, curve, 1.2 * curve]), ("target 1", "target 2", "target 3")),
    ]


def write_study(path: Path) -> Path:
    """A study folder as plastilab.studies lays it out: trials.jsonl and a run folder a trial.

    Two finished trials vary ``model.hidden`` (widths 32 and 64) and ``seed``; a third failed
    before it had a run folder. The ledger appends a whole entry each time a trial's state
    changes (pending with its overrides, running, then its end), and has one line cut short.
    """
    path.mkdir(parents=True)
    trials = {"t0": ([32, 32], 0), "t1": ([64, 64], 0), "t2": ([128, 128], 1)}
    entries = {t: {"trial": t, "state": "pending", "overrides": {"model.hidden": h, "seed": s}} for t, (h, s) in trials.items()}
    lines = [dict(e) for e in entries.values()]

    def record(trial, **fields):
        entries[trial].update(fields)
        lines.append(dict(entries[trial]))

    for trial in trials:
        record(trial, state="running", started=100.0, run_dir=None, error=None, ended=None)
    for trial in ("t0", "t1"):
        hidden, seed = trials[trial]
        run_dir = f"trials/study.{trial}/20261201-120000-abcdef"
        write_run(path / run_dir, variants=("adam-default",), seeds=(seed,), width=hidden[0])
        record(trial, state="finished", ended=110.0, seconds=10.0, run_dir=run_dir, cpu_seconds=9.5)
    record("t2", state="failed", ended=101.0, seconds=1.0, error="t2: the worker died")
    text = [json.dumps(line) + "\n" for line in lines]
    text.insert(4, '{"trial": "t1", "sta\n')  # a line cut short by a crash
    (path / "trials.jsonl").write_text("".join(text), encoding="utf-8")
    (path / "study.toml").write_text('name = "study"\n', encoding="utf-8")
    (path / "correlations.csv").write_text("statistic,n,pearson\nweights/norm,6,0.9\n", encoding="utf-8")
    return path
