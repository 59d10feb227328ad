"""LoP's slowly-changing regression stream (the bit-flipping problem): the target network is the
one LoP specifies, the runner trains on the stream LoP describes, bad options are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from plastilab.core.errors import ScenarioError
from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.scenarios.interventions import runner
from plastilab.scenarios.interventions.schema import SlowlyChangingRegressionOptions
from plastilab.scenarios.interventions.streams.slowly_changing_regression import LTUTargetNetwork, SlowlyChangingRegression
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
T = 20  # examples between changes in the tiny runs (batch_size 1)

TINY = """
kind = "interventions"
name = "bits-tiny"
seed = 3
[task]
targets = "slowly_changing_regression"
n_iterations = 4
steps_per_iteration = {T}
[task.slowly_changing_regression]
change = "{change}"
[training]
optimizer = "sgd"
lr = 0.01
batch_size = 1
log_every = 10
[grid]
architectures = ["mlp"]
interventions = {interventions}
[models.mlp]
hidden = [5]
"""


def tiny(tmp_path, change="redraw", interventions='["none"]', extra=""):
    path = tmp_path / "bits.toml"
    path.write_text(TINY.format(T=T, change=change, interventions=interventions) + extra)
    return load_scenario(path)


def test_the_target_network_is_lops_ltu_net():
    net = LTUTargetNetwork(n_inputs=20, n_hidden=100, beta=0.7, seed=11)
    for weights in (net.w, net.b, net.v, net.c):
        assert set(weights.unique().tolist()) <= {-1.0, 1.0}
    assert net.w.shape == (100, 20) and net.b.shape == (100,) and net.v.shape == (100,)
    # τ_i = β(n+1) − S_i with S_i = (n − Σ_j w_ij + b_i)/2, unit by unit
    for i in range(100):
        s = (20 - sum(net.w[i].tolist()) + net.b[i].item()) / 2
        assert net.tau[i].item() == pytest.approx(0.7 * 21 - s)
    bits = torch.randint(0, 2, (64, 20), generator=torch.Generator().manual_seed(0)).float()
    by_hand = torch.tensor([[1.0 if x @ net.w[i] + net.b[i] > net.tau[i] else 0.0 for i in range(100)] for x in bits])
    assert torch.equal(net.hidden(bits), by_hand)  # a unit fires strictly above its threshold
    assert torch.equal(net(bits), (by_hand @ net.v + net.c).unsqueeze(1))  # linear output


def test_the_target_network_depends_only_on_its_seed():
    a, b, c = (LTUTargetNetwork(20, 100, 0.7, seed) for seed in (5, 5, 6))
    assert torch.equal(a.w, b.w) and torch.equal(a.tau, b.tau) and torch.equal(a.v, b.v)
    assert not torch.equal(a.w, c.w)


def test_an_iterations_task_is_every_fast_combination_beside_its_slow_bits():
    stream = SlowlyChangingRegression(SlowlyChangingRegressionOptions(), seed=4)
    x, y = stream.inputs(3), stream.targets(3)
    assert x.shape == (32, 1, 1, 20) and y.shape == (32, 1)
    bits = x.flatten(1)
    assert (bits[:, :15] == stream.slow_bits(3)).all()
    assert len({tuple(row) for row in bits[:, 15:].tolist()}) == 32  # each of the 2^5 once
    assert torch.equal(y, stream.target(bits))


@pytest.mark.parametrize("change", ["redraw", "flip_one"])
def test_the_runner_trains_online_on_lops_stream(tmp_path, monkeypatch, change):
    """Record what the runner's model is trained on: the 15 slow bits change exactly every T
    examples (and only they), the 5 fast bits vary from example to example, and each target is
    the LTU network's output for that example."""
    seen_x, seen_y = [], []
    build = runner.build_model

    def recording_model(*args, **kwargs):
        model = build(*args, **kwargs)
        model.register_forward_pre_hook(lambda _m, inputs: seen_x.append(inputs[0].detach().clone()) if torch.is_grad_enabled() else None)
        return model

    make = runner.make_objective

    def recording_objective(*args):
        objective = make(*args)
        loss = objective.loss
        objective.loss = lambda output, y: (seen_y.append(y.clone()), loss(output, y))[1]
        return objective

    monkeypatch.setattr(runner, "build_model", recording_model)
    monkeypatch.setattr(runner, "make_objective", recording_objective)
    scenario = tiny(tmp_path, change=change)
    events = list(runner.run_interventions(scenario.config, _ctx()))
    assert events

    x = torch.cat(seen_x).flatten(1)
    assert x.shape == (4 * T, 20)  # batch_size 1: one example a step
    slow = x[:, :15].reshape(4, T, 15)
    assert (slow == slow[:, :1]).all()  # held for exactly T examples
    flipped = (slow[1:, 0] != slow[:-1, 0]).sum(1)  # slow bits changed at each boundary
    if change == "flip_one":
        assert flipped.tolist() == [1, 1, 1]
    else:
        assert (flipped >= 1).all()
    fast = x[:, 15:].reshape(4, T, 5)
    for iteration in range(4):
        assert len({tuple(row) for row in fast[iteration].tolist()}) > T // 2  # drawn anew per example
    target = LTUTargetNetwork(20, 100, 0.7, derive_seed(derive_seed(3, 0), 0))  # the series' seed, then the target's
    assert torch.equal(torch.cat(seen_y), target(x))


def test_every_method_of_the_grid_runs_on_the_stream(tmp_path):
    from plastilab.core.driver import drive
    from plastilab.rundir.writer import RunFolderWriter

    combos = '["none", "continual_backprop", "shrink_and_perturb", "weight_decay", "l2_init", "redo+layer_norm"]'
    extra = (
        "[interventions.continual_backprop]\nreplacement_rate = 0.05\nmaturity = 5\n"
        "[interventions.shrink_and_perturb]\nevery_steps = 1\nshrink = 0.9999\nnoise_std = 1e-3\n"
        "[interventions.weight_decay]\nweight_decay = 1e-3\ncoupled = true\n"
    )
    scenario = tiny(tmp_path, interventions=combos, extra=extra)
    run_dir = layout.new_run_dir(scenario.name, tmp_path)
    end = drive(scenario, [RunFolderWriter(run_dir, scenario, command=["test"])], run_dir=str(run_dir))
    assert isinstance(end, RunFinished), getattr(end, "error", end)
    records = read_jsonl(run_dir / layout.METRICS)
    for series in scenario.config.series():
        finals = [r["step"] for r in records if r["series"] == series and r["tag"] == "task/final_loss"]
        assert finals == [T, 2 * T, 3 * T, 4 * T], series
        bins = [r["value"] for r in records if r["series"] == series and r["tag"] == "train/loss"]
        assert len(bins) == 8 and all(v >= 0 for v in bins), series  # one bin per log_every examples
    replaced = sum(r["value"] for r in records if r["tag"] == "cbp/replaced_units")
    assert replaced > 0  # continual backprop replaced units of the 5-unit layer


@pytest.mark.parametrize(
    "override, message",
    [
        ('grid.architectures=["mlp", "cnn"]', "grid.architectures.1: found 'cnn'; allowed: \"mlp\", since slowly_changing_regression's inputs are bits"),
        ("task.n_outputs=2", "task.n_outputs: found 2; allowed: 1, since slowly_changing_regression's target network has one output"),
        ("task.slowly_changing_regression.n_slow_bits=20", "task.slowly_changing_regression.n_slow_bits: found 20; allowed: an integer from 4 to 19"),
        ('task.slowly_changing_regression.change="flip_two"', "task.slowly_changing_regression.change: found 'flip_two'"),
        ("task.slowly_changing_regression.beta=0", "task.slowly_changing_regression.beta: found 0"),
        ("task.slowly_changing_regression.n_bits=20", "task.slowly_changing_regression.n_bits: unknown key"),
        ('grid.interventions=["two_hot"]', "grid.interventions.0: found 'two_hot'; allowed: combinations without two_hot"),
    ],
)
def test_bad_options_give_one_line(override, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario(SCENARIOS / "slowly-changing-regression-quick.toml", [override])
    text = str(error.value)
    assert message in text and "\n" not in text
    assert "slowly-changing-regression-quick.toml" in text


def test_the_cli_refuses_a_bad_option_in_one_line(tmp_path):
    path = SCENARIOS / "slowly-changing-regression-quick.toml"
    result = subprocess.run(
        [sys.executable, "-m", "plastilab", "run", str(path), "--set", "task.slowly_changing_regression.n_slow_bits=0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "task.slowly_changing_regression.n_slow_bits: found 0" in result.stderr


@pytest.mark.parametrize("name", ["slowly-changing-regression-quick.toml", "slowly-changing-regression-paper.toml"])
def test_shipped_files_are_lops_problem(name):
    config = load_scenario(SCENARIOS / name).config
    stream = config.task.slowly_changing_regression
    assert (stream.n_inputs, stream.n_slow_bits, stream.target_hidden, stream.beta) == (20, 15, 100, 0.7)
    assert config.models.mlp.hidden == [5] and config.training.batch_size == 1
    assert (config.training.optimizer, config.training.lr) == ("sgd", 0.01)
    assert {"none", "continual_backprop", "shrink_and_perturb"} <= set(config.grid.interventions)
    assert len(config.seed_values()) >= 3


def _ctx():
    from plastilab.core.context import RunContext

    return RunContext(device="cpu", seed=3)
