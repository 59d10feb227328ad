"""A run stopped after a checkpoint and resumed writes what an uninterrupted run writes.

Each kind that checkpoints runs a tiny scenario twice in this process: once to the end, once
stopped a few steps after a checkpoint (its files then hold lines the resume must drop) and
resumed through the launcher. The two folders must hold the same numbers, bit for bit on the
CPU: metrics.jsonl, arrays.jsonl and every .npz, log.jsonl and summary.json (wall times aside).
"""

from __future__ import annotations

import json

import pytest

from plastilab.core.control import RunControl
from plastilab.core.scenario_file import load_scenario
from plastilab.instruments import hessian_products
from plastilab.instruments.hessian_products import FORWARD
from plastilab.rundir import layout
from plastilab.runtime import launcher
from plastilab.runtime.checkpoint_save import CHECKPOINT
from plastilab.runtime.resume import load_checkpoint
from resume_helpers import BLOCK_MDP, StopAfter, assert_same_run, lines, run_twice

from paths import SCENARIOS

ADAM = [
    "checkpoint_every=40",
    "data.n_images=64",
    "model.hidden=[16, 16]",
    "training.n_tasks=2",
    "training.steps_per_task=70",
    "training.log_every=10",
    # The probe and the unit statistics keep baselines (θ_0, the probe's loss at θ_0 and its
    # tasks) that a resumed run must take from the checkpoint, not measure again.
    "instruments.stats.every=30",
    "instruments.stats.n_examples=32",
    "instruments.probe.every=60",
    "instruments.probe.family='random_labels'",
    "instruments.probe.n_targets=2",
    "instruments.probe.probe_steps=10",
    "instruments.probe.n_examples=32",
    "instruments.covariance.every=60",
    "instruments.covariance.n_examples=16",
]

INTERVENTIONS = [
    "checkpoint_every=25",
    "data.n_images=100",
    "task.n_iterations=3",
    "task.steps_per_iteration=40",
    "training.log_every=10",
    "grid.n_seeds=2",
    "models.mlp.hidden=[16, 16]",
    # Interventions that keep state (a noise stream, θ_0 for L2-init) or draw from the global
    # stream (ReDo's fresh units), one after another in one run.
    "grid.interventions=['none', 'shrink_and_perturb+redo', 'l2_init', 'spectral_norm']",
    "interventions.redo.every_steps=20",
    "ranking.window=2",
    "instruments.stats.every=20",
    "instruments.stats.n_examples=32",
    "instruments.probe.every=40",
    "instruments.probe.n_targets=2",
    "instruments.probe.probe_steps=10",
    "instruments.probe.n_examples=32",
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("stack", ["on", "off"])
def test_adam_resumed_equals_uninterrupted(tmp_path, stack):
    overrides = [*ADAM, f"training.stack_seeds='{stack}'"]
    whole, resumed, saved = run_twice(tmp_path, "adam-tiny.toml", overrides, stop_step=100, seeds=2)
    assert saved["step"] == 80  # mid-task: the task's draws are made again up to step 80
    assert_same_run(resumed, whole)
    meta = json.loads((resumed / layout.META).read_text())
    assert [r["step"] for r in meta["resumes"]] == [80]
    assert (resumed / CHECKPOINT).is_file() and not list(resumed.glob("*.tmp"))


@pytest.mark.timeout(600)
def test_adam_resumed_at_a_task_boundary(tmp_path):
    # The checkpoint after a task's last step: the next task's TaskBoundary is written once.
    overrides = [*ADAM, "checkpoint_every=70"]
    whole, resumed, saved = run_twice(tmp_path, "adam-tiny.toml", overrides, stop_step=80)
    assert saved["step"] == 70
    assert_same_run(resumed, whole)
    assert sum(1 for r in lines(resumed / layout.METRICS) if r["tag"] == "task/index") == 2 * 3  # 2 tasks, 3 variants


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("seeds", "stop_series", "position"), [(None, "", 0), (2, "/s1", 1)])
def test_block_mdp_resumed_equals_uninterrupted(tmp_path, seeds, stop_series, position):
    # Two seeds run one after another: stopped in the second, the first is not run again.
    whole, resumed, saved = run_twice(tmp_path, "block-mdp-tiny.toml", BLOCK_MDP, stop_step=110, stop_series=stop_series, seeds=seeds)
    assert saved["step"] == 100 and saved["position"] == {"seed_index": position}
    assert saved["runner"]["combinations"][0]["agent"]["replay_buffer"]["size"] == 100  # the replay buffer travels
    assert_same_run(resumed, whole)


@pytest.mark.timeout(600)
def test_a_resumed_process_keeps_the_hessian_product_method_the_first_start_chose(tmp_path, monkeypatch):
    # The method is chosen by timing once per process, and the timing is logged. The resumed
    # start (a new process: forget_choices) must take the choice from the checkpoint: a second
    # timing would add a log line the uninterrupted run never wrote, and another method could
    # change the eigenvalues' last bits. Timing made deterministic here: its text holds no times.
    def measured(self, vectors, count):
        self.measurements.append(f"Hessian-vector products of {count} vector(s): using {FORWARD}")
        return FORWARD

    monkeypatch.setattr(hessian_products.HessianProducts, "_measure", measured)
    with_hessian = [o for o in BLOCK_MDP if not o.startswith("instruments.hessian")] + ["instruments.hessian.every=40", "instruments.hessian.trace_samples=2"]
    whole, resumed, saved = run_twice(tmp_path, "block-mdp-tiny.toml", with_hessian, stop_step=110)
    assert saved["step"] == 100 and saved["runner"] is not None
    assert_same_run(resumed, whole)
    timings = [r for r in lines(resumed / layout.LOG) if "Hessian-vector products" in r["message"]]
    assert timings and all(r["step"] == 40 for r in timings)  # measured once, at the first Hessian step
    hessian_steps = sorted({r["step"] for r in lines(resumed / layout.METRICS) if r["tag"] == "hessian/top_eigenvalue"})
    assert hessian_steps == [40, 80, 120]  # measured before the checkpoint and after it


@pytest.mark.timeout(600)
def test_a_resumed_run_can_be_stopped_and_resumed_again(tmp_path):
    scenario = load_scenario(SCENARIOS / "adam-tiny.toml", ADAM, device="cpu")
    whole = launcher.launch(scenario, tmp_path / "whole").run_dir
    control = RunControl()
    run_dir = launcher.launch(scenario, tmp_path / "again", consumers=[StopAfter(control, 50)], control=control).run_dir
    control = RunControl()
    again = launcher.resume(run_dir, consumers=[StopAfter(control, 90)], control=control)
    assert again.state == "interrupted" and load_checkpoint(run_dir)["step"] == 80
    assert launcher.resume(run_dir).state == "finished"
    assert_same_run(run_dir, whole)
    meta = json.loads((run_dir / layout.META).read_text())
    assert [r["step"] for r in meta["resumes"]] == [40, 80]


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("stop_series", "stop_step", "position", "step"), [("mlp+l2_init/s1", 60, 5, 50), ("mlp+none/s0", 80, 0, 75)])
def test_interventions_resumed_equals_uninterrupted(tmp_path, stop_series, stop_step, position, step):
    # Series train one after another: stopped in the sixth, the first five are not trained again,
    # and the ranking over every series (in the end summary) is the uninterrupted run's.
    whole, resumed, saved = run_twice(tmp_path, "interventions-quick.toml", INTERVENTIONS, stop_step=stop_step, stop_series=stop_series)
    assert saved["position"] == {"series_index": position} and saved["step"] == step
    assert_same_run(resumed, whole)
    summary = json.loads((resumed / layout.SUMMARY).read_text())
    assert len(summary["scenario_summary"]["ranking"]) == 4


ATARI = [
    "checkpoint_every=150",
    "env.max_frames=320",  # 80 agent steps an episode: the checkpoint falls mid-episode, the stop after an episode's end
    "instruments.hessian.every=0",  # its logged product timings differ between runs (see BLOCK_MDP)
]


@pytest.mark.timeout(600)
def test_atari_resumed_equals_uninterrupted(tmp_path):
    pytest.importorskip("ale_py")
    whole, resumed, saved = run_twice(tmp_path, "atari-tiny.toml", ATARI, stop_step=200)
    assert saved["step"] == 150
    assert_same_run(resumed, whole)
