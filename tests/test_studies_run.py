"""A study end to end on the local pool: every trial a run folder, failures recorded, aggregates."""

from __future__ import annotations

import csv
import json

from studies_helpers import latest_states, plastilab, set_args, study_dirs, tiny_study


def test_a_study_runs_every_trial_in_its_own_run_folder_and_aggregates(tmp_path):
    path, settings = tiny_study(tmp_path, seeds=2, axes='"agents.mlp.optimizer" = ["adam", "rmsprop"]')
    path.write_text(path.read_text().replace("[analysis]", '[analysis]\ncolor_by = "agents.mlp.optimizer"'))
    out = tmp_path / "runs"
    result = plastilab("run", str(path), "--out", str(out), "--workers", "2", *set_args(settings))
    assert result.returncode == 0, result.stderr[-2000:]
    (study_dir,) = study_dirs(out, "tiny")
    assert latest_states(study_dir) == {"t000": "finished", "t001": "finished", "t002": "finished", "t003": "finished"}
    ledger = {e["trial"]: e for e in map(json.loads, (study_dir / "trials.jsonl").read_text().splitlines())}
    for trial_id, entry in ledger.items():
        run_dir = study_dir / entry["run_dir"]
        assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"
        assert entry["seconds"] > 0 and entry["overrides"]["seed"] in (0, 1)
    rows = list(csv.DictReader(open(study_dir / "table.csv")))
    assert len(rows) == 4 * 2  # four trials, two probe checkpoints each, one series
    assert {r["trial"] for r in rows} == {"t000", "t001", "t002", "t003"}
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["counts"] == {"finished": 4} and summary["rows"] == 8
    assert summary["target"].startswith("probe/")
    assert summary["correlations"] and all(c["n"] <= 8 for c in summary["correlations"])
    assert (study_dir / "correlations.csv").is_file() and (study_dir / "axes.csv").is_file()
    report = plastilab("report", str(study_dir))
    assert report.returncode == 0 and "Pearson" in report.stdout and "agents.mlp.optimizer=rmsprop" in report.stdout


def test_a_failing_trial_is_recorded_and_the_others_finish(tmp_path):
    path, settings = tiny_study(tmp_path, name="fails", axes='"data.dataset" = ["mnist-5k", "mnist"]')
    out = tmp_path / "runs"
    missing = tmp_path / "no-data"
    result = plastilab("run", str(path), "--out", str(out), "--workers", "2", "--set", f"data.data_dir={missing}", *set_args(settings))
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (study_dir,) = study_dirs(out, "fails")
    entries = {e["trial"]: e for e in map(json.loads, (study_dir / "trials.jsonl").read_text().splitlines())}
    assert entries["t000"]["state"] == "finished"
    assert entries["t001"]["state"] == "failed" and "mnist" in entries["t001"]["error"]
    assert json.loads((study_dir / "summary.json").read_text())["counts"] == {"failed": 1, "finished": 1}
