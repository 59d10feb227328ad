"""The interventions scenario end to end: a tiny grid writes every series and the ranking."""

import json
from pathlib import Path

import pytest

from plastilab.core.context import RunContext
from plastilab.core.errors import ScenarioError
from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario, validate_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.analysis.ranking import ranking_from_summary
from plastilab.scenarios.interventions.runner import run_interventions
from interventions_helpers import run_to_folder, tiny

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

def test_a_quick_grid_writes_every_series_and_the_ranking(tmp_path):
    combos = '["none", "reset_last_layer+reset_optimizer+shrink_and_perturb", "layer_norm+redo+weight_decay+l2_init+spectral_norm"]'
    scenario = tiny(tmp_path, interventions=combos)
    run_dir, end = run_to_folder(scenario, tmp_path)
    assert isinstance(end, RunFinished), getattr(end, "error", end)

    expected = {f"{arch}+{combo}/s{seed}" for arch in ("mlp", "cnn") for combo in eval(combos) for seed in (0, 1)}
    assert set(scenario.config.series()) == expected
    records = read_jsonl(run_dir / layout.METRICS)
    for series in expected:
        finals = [r for r in records if r["series"] == series and r["tag"] == "task/final_loss"]
        boundaries = [r["step"] for r in records if r["series"] == series and r["tag"] == "task/index"]
        assert [r["step"] for r in finals] == [4, 8, 12], series  # the last step of each iteration
        assert boundaries == [0, 4, 8], series

    summary = json.loads((run_dir / layout.SUMMARY).read_text())
    ranking = ranking_from_summary(summary, window=1)
    assert {r.name for r in ranking} == {s.rsplit("/", 1)[0] for s in expected}
    assert all(r.n_seeds == 2 and r.n_iterations == 3 and r.final_loss is not None for r in ranking)
    written = summary["scenario_summary"]  # the runner's own summary, kept by the driver
    assert [r["name"] for r in written["ranking"]] == [r.name for r in ranking]
    # The ranking lives in the summary (the report draws it from there), not in the log too:
    # logged as well, `plastilab run` printed it twice.
    assert not [r for r in read_jsonl(run_dir / layout.LOG) if "ranking" in r["message"]]


def test_the_runner_returns_the_ranking_for_the_end_summary(tmp_path):
    config = tiny(tmp_path, targets="regression", architectures='["mlp"]', interventions='["two_hot", "redo"]').config

    events = run_interventions(config, RunContext(device="cpu", seed=0))
    with pytest.raises(StopIteration) as stop:
        while True:
            next(events)
    summary = stop.value.value  # a generator's return value: what the driver can put in RunFinished
    assert summary["ranking_window"] == 1
    assert {r["name"] for r in summary["ranking"]} == {"mlp+two_hot", "mlp+redo"}


def test_instruments_table_adds_their_tags(tmp_path):
    extra = (
        "[instruments.stats]\nevery = 2\nn_examples = 16\n"
        "[instruments.probe]\nevery = 6\nprobe_steps = 3\nn_targets = 2\nn_examples = 16\nbatch_size = 8\n"
    )
    combos = '["shrink_and_perturb", "spectral_norm"]'
    scenario = tiny(tmp_path, targets="regression", architectures='["mlp"]', interventions=combos, extra=extra)
    run_dir, end = run_to_folder(scenario, tmp_path)
    assert isinstance(end, RunFinished), getattr(end, "error", end)
    records = read_jsonl(run_dir / layout.METRICS)
    tags = {r["tag"] for r in records}
    assert {"features/effective_rank", "units/dormant_fraction", "probe/final_loss", "task/final_loss"} <= tags
    probed = {r["series"] for r in records if r["tag"] == "probe/plasticity_loss"}
    assert probed == set(scenario.config.series())  # spectral norm's series too


@pytest.mark.parametrize(
    "override, message",
    [
        ('grid.interventions=["none", "shrink"]', "grid.interventions.1: found 'shrink'; allowed: names joined by +"),
        ('grid.interventions=["none+redo"]', "grid.interventions.0: found 'none+redo'"),
        ('grid.interventions=["redo+redo"]', "grid.interventions.0: found 'redo+redo'"),
        ('grid.interventions=["layer_norm+two_hot"]', "grid.interventions.0: found 'layer_norm+two_hot'; allowed: combinations without two_hot"),
        ('grid.architectures=["lstm"]', "grid.architectures.0: found 'lstm'"),
        ("interventions.shrink_and_perturb.shrink=1.5", "interventions.shrink_and_perturb.shrink: found 1.5; allowed: a number <= 1"),
        ("interventions.two_hot.high=-9", "interventions.two_hot.high: found -9"),
        ("models.vit.depht=3", "models.vit.depht: unknown key; allowed here: patch_size, dim, depth"),
        ('task.steps_per_iteration="300"', "task.steps_per_iteration: found '300'"),
    ],
)
def test_bad_input_gives_one_line(override, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario(SCENARIOS / "interventions-quick.toml", [override])
    text = str(error.value)
    assert message in text and "\n" not in text


@pytest.mark.parametrize("name", ["interventions-quick.toml", "interventions-paper.toml"])
def test_shipped_files_validate(name):
    config = load_scenario(SCENARIOS / name).config
    assert config.kind == "interventions" and len(config.series()) >= 8
    again = validate_scenario(config.model_dump(mode="json", exclude_none=True), name)
    assert again == config


def test_a_diverging_series_fails_the_run_with_one_line(tmp_path):
    scenario = tiny(tmp_path, targets="regression", architectures='["mlp"]')
    scenario = load_scenario(scenario.path, ['training.optimizer="sgd"', "training.lr=1e12"])
    run_dir, end = run_to_folder(scenario, tmp_path)
    assert "training.lr: the loss of series 'mlp+none/s0' became" in end.error and "\n" not in end.error
    assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "failed"


def test_every_new_method_runs_in_a_tiny_grid_and_logs_its_own_tags(tmp_path):
    combos = (
        '["continual_backprop", "plasticity_injection+trac", "crelu+regrama", "dff+nap", "parseval", '
        '"layer_reset", "full_reset", "shrink_and_perturb+weight_decay"]'
    )
    extra = """
[interventions.continual_backprop]
maturity = 1
replacement_rate = 0.5
[interventions.regrama]
every_steps = 2
threshold = 0.5
[interventions.shrink_and_perturb]
target = "init"
every_steps = 3
[interventions.weight_decay]
coupled = true
[instruments.stats]
every = 2
n_examples = 16
"""
    run_dir, end = run_to_folder(tiny(tmp_path, architectures='["mlp", "cnn"]', interventions=combos, extra=extra), tmp_path)
    assert isinstance(end, RunFinished), end
    lines = read_jsonl(run_dir / layout.METRICS)
    tags = {(line["series"].split("/")[0], line["tag"]) for line in lines}
    assert ("mlp+continual_backprop", "cbp/replaced_units") in tags
    assert ("cnn+continual_backprop", "cbp/utility_min/body.act1") in tags
    assert ("mlp+crelu+regrama", "regrama/recycled_units") in tags
    assert ("mlp+crelu+regrama", "units/active_fraction") in tags  # CReLU layers are found
    assert ("mlp+plasticity_injection+trac", "weights/rms_change") in tags
    replaced = [line["value"] for line in lines if line["tag"] == "cbp/replaced_units"]
    assert sum(replaced) > 0
    ranking = ranking_from_summary(json.loads((run_dir / layout.SUMMARY).read_text()))
    assert len(ranking) == 16
