"""The paper's Figure 1 at test scale, asserted on the numbers the run wrote to its folder.

Default Adam memorises the first tasks, then ends near chance (ln 10 = 2.30) on the last task,
while Adam with beta2 = 0.9 and eps = 1e-3, on the identical stream, still fits it.
"""

import math

from plastilab.core.driver import drive
from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.rundir.writer import RunFolderWriter

SCENARIO = """
kind = "adam_instability"
name = "figure1-test"
seed = 0
[data]
n_images = 256
[model]
hidden = [64, 64]
[training]
n_tasks = 4
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


def test_default_adam_loses_plasticity_and_the_fix_keeps_it(tmp_path):
    path = tmp_path / "figure1.toml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    run_dir = tmp_path / "run"
    end = drive(scenario, [RunFolderWriter(run_dir, scenario)], run_dir=str(run_dir))
    assert isinstance(end, RunFinished)

    final = {}
    for r in read_jsonl(run_dir / layout.METRICS):
        if r["tag"] == "task/final_loss":
            final.setdefault(r["series"], []).append(r["value"])
    default, fixed = final["adam-default"], final["adam-beta2-eps"]
    assert len(default) == len(fixed) == 4
    chance = math.log(10)
    # Both memorise the first task.
    assert default[0] < 0.1 and fixed[0] < 0.1
    # Default Adam ends near chance on the last task; the fixed variant fits it far better.
    assert default[-1] > 0.75 * chance
    assert fixed[-1] < 0.5
    assert default[-1] - fixed[-1] > 1.0
