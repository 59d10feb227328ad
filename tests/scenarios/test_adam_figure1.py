"""The paper's Figure 1 at test scale, asserted over seeds on the numbers each run wrote to its folder.

Default Adam memorises the first tasks, then ends near chance (ln 10 = 2.30) on the last task,
while Adam with beta2 = 0.9 and eps = 1e-3, on the identical stream, still fits it.

One seed's trajectory is chaotic: float rounding differs between CPU kernels, and the same seed
ended default Adam's last task at 2.22 on one x86 CPU and 1.30 on another. So the test runs
several seeds and asserts on their means. The margins come from a measurement of this exact
setting (six seeds, 0-5, one CPU), last task's final loss:

    default Adam          2.13 mean, 0.16 standard deviation across seeds (1.89 to 2.28)
    beta2 = 0.9, eps=1e-3 0.08 mean, 0.06 s.d. (0.00 to 0.16)
    gap between them      2.05 mean, 0.17 s.d. (1.76 to 2.22)

Each threshold lies six per-seed standard deviations from the measured mean, on the side of the
effect failing, though a mean of four seeds varies half as much as one seed. The cheaper setting
(lr 3e-3, 1,500 steps a task, a 64-64 network) separates as cleanly as lr 1e-3 does at 3,000
steps; at lr 1e-3 and 1,500 steps default Adam still fits all four tasks (last task 0.05-0.15).
"""

import math
import statistics

import pytest

from plastilab.core.driver import drive
from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.rundir.writer import RunFolderWriter

SEEDS = (0, 1, 2, 3)
N_TASKS = 4
SCENARIO = f"""
kind = "adam_instability"
name = "figure1-test"
seed = 0
[data]
n_images = 256
[model]
hidden = [64, 64]
[training]
n_tasks = {N_TASKS}
steps_per_task = 1500
batch_size = 64
lr = 3e-3
log_every = 250
[variants.adam-default]
optimizer = "adam"
[variants.adam-beta2-eps]
optimizer = "adam"
beta2 = 0.9
eps = 1e-3
"""


def final_losses(path, run_dir, seed: int) -> dict[str, list[float]]:
    """Each variant's final loss per task, for one seed (as `--set seed=N` would run it)."""
    scenario = load_scenario(path, [f"seed={seed}"])
    end = drive(scenario, [RunFolderWriter(run_dir, scenario)], run_dir=str(run_dir))
    assert isinstance(end, RunFinished)
    final: dict[str, list[float]] = {}
    for record in read_jsonl(run_dir / layout.METRICS):
        if record["tag"] == "task/final_loss":
            final.setdefault(record["series"], []).append(record["value"])
    assert all(len(losses) == N_TASKS for losses in final.values())
    return final


# About 40 s of CPU (four seeds of about 10 s each, one thread); the limit only catches a hang, and
# stays far above the minutes this takes when other processes keep the cores busy.
@pytest.mark.timeout(1800)
def test_default_adam_loses_plasticity_and_the_fix_keeps_it(tmp_path):
    path = tmp_path / "figure1.toml"
    path.write_text(SCENARIO)
    runs = [final_losses(path, tmp_path / f"seed-{seed}", seed) for seed in SEEDS]

    def across_seeds(series: str, task: int) -> list[float]:
        return [run[series][task] for run in runs]

    default_last, fixed_last = across_seeds("adam-default", -1), across_seeds("adam-beta2-eps", -1)
    gaps = [d - f for d, f in zip(default_last, fixed_last)]
    seen = f"default {default_last}, fixed {fixed_last} (seeds {SEEDS})"
    chance = math.log(10)
    # Both memorise the first task (measured: at most 0.002).
    assert statistics.mean(across_seeds("adam-default", 0)) < 0.1
    assert statistics.mean(across_seeds("adam-beta2-eps", 0)) < 0.1
    # On the last task default Adam ends near chance, the fixed variant still fits it.
    assert statistics.mean(default_last) > 0.5 * chance, seen  # 1.15 = 2.13 - 6 x 0.16
    assert statistics.mean(fixed_last) < 0.5, seen  # 0.08 + 6 x 0.06
    assert statistics.mean(gaps) > 1.0, seen  # 2.05 - 6 x 0.17
