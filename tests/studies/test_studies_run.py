"""A study end to end on the local pool: every trial a run folder, a failure recorded without
stopping the others, the aggregate files and the report."""

from __future__ import annotations

import csv
import json

from studies_helpers import latest_states, ledger_lines, plastilab, set_args, study_dirs, tiny_study


def test_a_study_runs_every_trial_keeps_going_past_a_failure_and_aggregates(tmp_path):
    path, settings = tiny_study(tmp_path, seeds=2)
    # An explicit trial list; t004/t005 name a dataset that is not on disk: they pass validation,
    # fail at preflight, and must not stop the others.
    text = path.read_text().replace(
        "[axes]\n",
        'trials = [{ "agents.mlp.optimizer" = "adam" }, { "agents.mlp.optimizer" = "rmsprop" }, { "data.dataset" = "mnist" }]\n',
    )
    path.write_text(text.replace("[analysis]", '[analysis]\ncolor_by = "agents.mlp.optimizer"'))
    out = tmp_path / "runs"
    missing = tmp_path / "no-data"
    result = plastilab("run", str(path), "--out", str(out), "--workers", "2", "--set", f"data.data_dir={missing}", *set_args(settings))
    assert result.returncode == 1, result.stderr[-2000:]  # some trials failed
    assert "Traceback" not in result.stderr
    (study_dir,) = study_dirs(out, "tiny")
    states = latest_states(study_dir)
    assert states == {"t000": "finished", "t001": "finished", "t002": "finished", "t003": "finished", "t004": "failed", "t005": "failed"}
    ends = {e["trial"]: e for e in ledger_lines(study_dir)}
    assert "mnist" in ends["t004"]["error"] and ends["t004"]["run_dir"] is None  # preflight: no run folder
    for trial_id in ("t000", "t001", "t002", "t003"):
        entry = ends[trial_id]
        assert json.loads((study_dir / entry["run_dir"] / "status.json").read_text())["state"] == "finished"
        assert entry["seconds"] > 0 and entry["overrides"]["seed"] in (0, 1)
    rows = list(csv.DictReader(open(study_dir / "table.csv")))
    assert len(rows) == 4 * 2  # four finished trials, two probe checkpoints each, one series
    assert {r["agents.mlp.optimizer"] for r in rows} == {"adam", "rmsprop"}
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["counts"] == {"finished": 4, "failed": 2} and summary["rows"] == 8
    assert summary["target"].startswith("probe/")
    assert summary["correlations"] and all(c["n"] <= 8 for c in summary["correlations"])
    assert [c["n"] for c in summary["correlations_last_checkpoint"]] == [4] * len(summary["correlations_last_checkpoint"])
    assert (study_dir / "correlations.csv").is_file() and (study_dir / "correlations_last.csv").is_file()
    assert (study_dir / "axes.csv").is_file()
    report = plastilab("report", str(study_dir))
    assert report.returncode == 0 and "Pearson" in report.stdout and "agents.mlp.optimizer=rmsprop" in report.stdout
