"""Notebook-style use of the analysis API: a run and a study folder loaded into DataFrames,
checked line by line against the files they were read from."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from analysis_folders import CHECKPOINTS, N_TASKS, SCENARIOS, final_loss, write_run, write_study

import plastilab
from plastilab.analysis import AnalysisError, parse_series
from plastilab.core.driver import drive
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """adam-tiny, cut short, trained for real."""
    path = tmp_path_factory.mktemp("adam-tiny")
    scenario = load_scenario(SCENARIOS / "adam-tiny.toml", ["training.n_tasks=2", "training.steps_per_task=30"])
    drive(scenario, [RunFolderWriter(path, scenario)], run_dir=str(path))
    return path


def test_load_run_matches_metrics_jsonl_line_by_line(real_run):
    run = plastilab.load_run(real_run)
    lines = [json.loads(line) for line in (real_run / "metrics.jsonl").read_text().splitlines()]
    assert list(run.scalars.columns) == ["step", "series", "tag", "value", "wall_time", "variant", "seed"]
    assert len(run.scalars) == len(lines) > 100
    for row, line in zip(run.scalars.itertuples(), lines):
        assert (row.step, row.series, row.tag) == (line["step"], line["series"], line["tag"])
        assert row.value == pytest.approx(line["value"]) and row.wall_time == line["wall_time"]
    # One seed: series names are the variants, and the seed column is missing values.
    assert run.series == ["adam-default", "adam-beta2-eps", "sgd"]
    assert (run.scalars["variant"] == run.scalars["series"]).all() and run.scalars["seed"].isna().all()
    assert run.scenario["name"] == "adam-tiny" and run.scenario["training"]["steps_per_task"] == 30
    assert run.state == "finished" and run.meta["scenario"] == "adam-tiny"
    per_task = run.per_task()
    assert per_task.shape == (3 * 2, 6) and sorted(set(per_task["task"])) == [1, 2]
    for row in per_task.itertuples():
        assert row.value == pytest.approx(run.summary["series"][row.series]["per_task"]["task/final_loss"][row.task - 1])
    assert run.task_boundaries() == [0, 30]


def test_series_names_give_the_variant_and_the_seed(tmp_path):
    assert parse_series("adam-default/s3") == ("adam-default", 3)
    assert parse_series("sgd") == ("sgd", None)
    assert parse_series("reward/aligned/s12") == ("reward/aligned", 12)
    assert parse_series("adam/seeds") == ("adam/seeds", None)
    run = plastilab.load_run(write_run(tmp_path / "run"))
    assert run.scalars["seed"].dtype == "Int64"
    assert set(zip(run.scalars["variant"], run.scalars["seed"])) == {("adam-default", 0), ("adam-default", 1), ("sgd", 0), ("sgd", 1)}
    table = run.per_task()
    assert len(table) == 4 * N_TASKS
    for row in table.itertuples():
        assert row.value == pytest.approx(final_loss(row.variant, row.seed, row.task))


def test_nonfinite_values_come_back_and_damaged_lines_are_skipped(tmp_path):
    path = write_run(tmp_path / "run", nan_at=15)
    clean = len(plastilab.load_run(path).scalars)
    with open(path / "metrics.jsonl", "a") as f:
        f.write('{"step": "x", "series": "a", "tag": "b", "value": 1}\n{"step": 99, "series": "adam-de')
    run = plastilab.load_run(path)
    assert len(run.scalars) == clean
    losses = run.tag("train/loss")
    assert losses[losses["step"] == 15]["value"].isna().all() and losses["value"].notna().sum() == len(losses) - 4


def test_load_arrays_gives_histograms_matrices_and_curves(tmp_path):
    path = write_run(tmp_path / "run", seeds=(0,))
    events = plastilab.load_arrays(path)
    assert len(events) == 2 * len(CHECKPOINTS) * 4  # density, covariance, probe curve, its targets
    densities = plastilab.load_arrays(path, kind="histogram")
    assert [e.step for e in densities if e.series == "sgd"] == list(CHECKPOINTS)
    assert all(e.tag == "hessian/density" and len(e.edges) == len(e.counts) + 1 for e in densities)
    (matrix,) = [e for e in plastilab.load_arrays(path, tag="gradients/covariance") if e.series == "sgd" and e.step == 20]
    assert matrix.values.shape == (3, 3) and matrix.labels == ("0", "1", "2")
    curve = plastilab.load_arrays(path, kind="curve")[-1]
    np.testing.assert_allclose(curve.y, np.array([1.0, 0.5, 0.3, 0.2, 0.1]) * 2)
    with pytest.raises(AnalysisError, match="kind 'image' unknown"):
        plastilab.load_arrays(path, kind="image")


def test_load_study_gives_one_row_per_trial_with_the_axes_as_columns(tmp_path):
    path = write_study(tmp_path / "study")
    study = plastilab.load_study(path)
    assert study.axes == ["model.hidden", "seed"]
    trials = study.trials.set_index("trial")
    assert list(trials.index) == ["t0", "t1", "t2"]
    assert list(trials["state"]) == ["finished", "finished", "failed"]  # the last ledger line wins
    assert list(trials["model.hidden"]) == [(32, 32), (64, 64), (128, 128)]
    assert trials.at["t2", "error"] == "t2: the worker died" and pd.isna(trials.at["t0", "error"])
    assert trials.at["t0", "run_dir"] == str(path / "trials" / "study.t0" / "20261201-120000-abcdef")
    assert trials.at["t1", "seconds"] == 10.0 and trials.at["t1", "cpu_seconds"] == 9.5 and pd.isna(trials.at["t2", "run_dir"])
    assert study.study_file == {"name": "study"}
    assert study.correlations is not None and list(study.correlations["statistic"]) == ["weights/norm"]
    scalars = study.scalars()
    runs = study.runs()
    assert set(runs) == {"t0", "t1"}  # t2 failed before it had a run folder
    assert len(scalars) == sum(len(r.scalars) for r in runs.values())
    assert {"trial", "model.hidden", "seed"} <= set(scalars.columns)
    t1 = scalars[scalars["trial"] == "t1"]
    assert set(t1["model.hidden"]) == {(64, 64)} and set(t1["seed"]) == {0}
    last = t1[t1["tag"] == "probe/plasticity_loss"]["value"].iloc[-1]
    assert last == pytest.approx(0.5)  # plasticity() at step 40 for width 64


def test_a_ledger_line_without_a_state_takes_it_from_the_run_folder(tmp_path):
    write_run(tmp_path / "study" / "a", seeds=(0,))
    (tmp_path / "study" / "trials.jsonl").write_text(json.dumps({"trial_id": "a", "overrides": {"training.lr": 0.01}, "run_dir": "a"}) + "\n")
    study = plastilab.load_study(tmp_path / "study")
    assert study.trials.loc[0, "state"] == "finished" and study.trials.loc[0, "training.lr"] == 0.01


def test_folders_that_are_not_runs_or_studies_are_one_line_errors(tmp_path):
    with pytest.raises(AnalysisError, match="not a run folder"):
        plastilab.load_run(tmp_path)
    with pytest.raises(AnalysisError, match="not a study folder"):
        plastilab.load_study(tmp_path)


def test_import_plastilab_and_help_stay_cheap():
    code = (
        "import sys, plastilab\n"
        "assert 'load_study' in plastilab.__all__\n"
        "from plastilab.cli import app\n"
        "from typer.testing import CliRunner\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in ('pandas', 'torch', 'matplotlib', 'tensorboard', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
