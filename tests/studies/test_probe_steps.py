"""Pairing statistics with the probe's steps, read from a run folder's metrics.jsonl."""

from __future__ import annotations

import json

from plastilab.studies.probe_steps import read_probe_steps


def write_metrics(run_dir, records):
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "metrics.jsonl", "w") as f:
        for step, series, tag, value in records:
            f.write(json.dumps({"step": step, "series": series, "tag": tag, "value": value, "wall_time": 0.0}) + "\n")
        f.write('{"step": 9, "ser')  # a killed writer's partial last line is skipped


def test_each_statistic_is_its_value_since_the_previous_checkpoint(tmp_path):
    run = tmp_path / "run"
    write_metrics(run, [
        (0, "a", "probe/plasticity_loss", 0.0),
        (0, "a", "weights/norm", 1.0),
        (50, "a", "weights/norm", 1.5),
        (100, "a", "weights/norm", 2.0),
        (100, "a", "probe/plasticity_loss", 0.3),
        (100, "a", "explore/epsilon", 0.5),
        (150, "a", "hessian/top_eigenvalue", 7.0),  # slower, offset schedule: pairs with 200
        (200, "a", "probe/plasticity_loss", 0.6),
        (200, "a", "weights/norm", 3.0),
        (200, "b", "probe/final_loss", 1.0),
    ])
    data = read_probe_steps(run, "probe/plasticity_loss")
    assert data["target"] == "probe/plasticity_loss"
    checkpoints = data["series"]["a"]["checkpoints"]
    # Step 0 is the probe's baseline at θ_0, where plasticity loss is zero by construction: no point.
    assert [c["step"] for c in checkpoints] == [100, 200]
    assert checkpoints[0]["values"] == {"probe/plasticity_loss": 0.3, "weights/norm": 2.0}  # no epsilon: bookkeeping
    assert "hessian/top_eigenvalue" not in checkpoints[0]["values"]
    assert checkpoints[1]["values"]["hessian/top_eigenvalue"] == 7.0
    assert data["series"]["a"]["final"]["weights/norm"] == 3.0
    assert data["series"]["b"]["checkpoints"] == []  # b never logged the target


def test_a_missing_target_falls_back_to_another_probe_tag(tmp_path):
    run = tmp_path / "run"
    write_metrics(run, [(10, "a", "probe/final_loss", 0.4), (10, "a", "grads/norm", 2.0)])
    data = read_probe_steps(run, "probe/plasticity_loss")
    assert data["target"] == "probe/final_loss"
    assert data["series"]["a"]["checkpoints"] == [{"step": 10, "values": {"probe/final_loss": 0.4, "grads/norm": 2.0}}]
