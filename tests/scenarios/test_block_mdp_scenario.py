"""The block-MDP scenario end to end: its files validate, and a run leaves every measurement in
the run folder (through the driver and the run-folder writer, as ``plastilab run`` does)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl

from block_mdp_helpers import TINY, run_to_folder
from paths import SCENARIOS

@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("block-mdp-*.toml")), ids=lambda p: p.name)
def test_scenario_files_validate(path):
    config = load_scenario(path).config
    assert config.kind == "block_mdp" and config.name == path.stem
    assert config.description and config.estimated_cpu_seconds > 0


def test_series_name_every_combination():
    sweep = load_scenario(SCENARIOS / "block-mdp-sweep.toml").config
    assert sweep.series() == [
        f"{reward}/{torso}/td" for reward in ("class_aligned", "image_random", "sparse") for torso in ("mlp", "cnn")
    ]
    tiny = load_scenario(TINY).config
    assert tiny.series() == ["mlp/td", "mlp/brownian"]


def test_a_run_writes_probe_results_and_every_instrument_to_the_run_folder(tmp_path):
    run_dir, end = run_to_folder([], tmp_path)
    assert isinstance(end, RunFinished), end
    lines = read_jsonl(run_dir / layout.METRICS)
    by = {}
    for r in lines:
        by.setdefault((r["series"], r["tag"]), []).append((r["step"], r["value"]))
    for series in ("mlp/td", "mlp/brownian"):
        assert [s for s, _ in by[(series, "probe/final_loss")]] == [0, 150, 300]  # step 0: the baseline at θ_0
        assert all(v is not None and v >= 0 for _, v in by[(series, "probe/final_loss")])
        assert by[(series, "probe/plasticity_loss")][0] == (0, 0.0)
        assert [s for s, _ in by[(series, "hessian/top_eigenvalue")]] == [300]
        assert [s for s, _ in by[(series, "gradients/mean_similarity")]] == [300]
        assert [s for s, _ in by[(series, "units/dead_fraction")]] == [100, 200, 300]
    # per step (as means over each log window) for the TD learner
    assert [s for s, _ in by[("mlp/td", "explore/epsilon")]] == list(range(10, 301, 10))
    assert [s for s, _ in by[("mlp/td", "td/loss")]] == list(range(60, 301, 10))  # learning starts after 50
    assert {"q/mean", "episode/return", "episode/optimal_return"} <= {tag for _, tag in by}
    assert [s for s, _ in by[("mlp/td", "episode/return")]] == [50, 100, 150, 200, 250, 300]
    arrays = read_jsonl(run_dir / layout.ARRAYS)
    kinds = {(a["series"], a["tag"], a["kind"]) for a in arrays}
    for series in ("mlp/td", "mlp/brownian"):
        assert {(series, "probe/curve", "curve"), (series, "hessian/density", "histogram"),
                (series, "gradients/covariance", "matrix")} <= kinds
    assert sorted(a["step"] for a in arrays if a["series"] == series and a["tag"] == "probe/curve") == [0, 150, 300]
    curve = next(a for a in arrays if a["tag"] == "probe/curve")
    with np.load(run_dir / curve["file"]) as saved:
        assert len(saved["y"]) == 20  # the probe's learning curve, one loss per probe step
    assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "finished"


def test_the_same_seed_writes_the_same_numbers_and_instruments_never_change_training(tmp_path):
    def numbers(run_dir):
        return [(r["step"], r["series"], r["tag"], r["value"]) for r in read_jsonl(run_dir / layout.METRICS)]

    quiet = ["instruments.probe.every=0", "instruments.stats.every=0", "instruments.hessian.every=0",
             "instruments.covariance.every=0", "training.total_steps=200"]
    first, _ = run_to_folder(quiet, tmp_path / "a")
    second, _ = run_to_folder(quiet, tmp_path / "b")
    assert numbers(first) == numbers(second)
    measured, _ = run_to_folder(["training.total_steps=200"], tmp_path / "c")
    td = [n for n in numbers(measured) if n[1] == "mlp/td" and n[2] in ("td/loss", "q/mean", "episode/return")]
    assert td == [n for n in numbers(first) if n[1] == "mlp/td" and n[2] in ("td/loss", "q/mean", "episode/return")]


@pytest.mark.parametrize(
    "override, words",
    [
        ("env.switch_every=301", r"env\.switch_every: found 301; allowed: 0 \(never\) or at most training\.total_steps = 300"),
        ("env.switch_every=-1", r"env\.switch_every: found -1"),
    ],
)
def test_a_switch_schedule_outside_the_run_is_refused_in_one_line(override, words):
    from plastilab.core.errors import ScenarioError

    with pytest.raises(ScenarioError, match=words) as refused:
        load_scenario(TINY, [override])
    assert "\n" not in str(refused.value)
