"""The Ray executor on a real local Ray instance: the same study, the same files."""

from __future__ import annotations

import json

import pytest

from studies_helpers import latest_states, ledger_lines, plastilab, set_args, study_dirs, tiny_study

pytest.importorskip("ray")  # the dev extra installs it; a bare install runs everything else


@pytest.mark.timeout(600)  # a local Ray starts in ~10 s idle, much longer on a loaded machine
def test_a_study_runs_as_ray_tasks_on_a_local_instance(tmp_path):
    path, settings = tiny_study(tmp_path, name="on-ray", seeds=2)
    out = tmp_path / "runs"
    result = plastilab("run", str(path), "--out", str(out), "--executor", "ray", "--workers", "2", *set_args(settings), timeout=540)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Ray local instance" in result.stderr
    (study_dir,) = study_dirs(out, "on-ray")
    assert latest_states(study_dir) == {"t000": "finished", "t001": "finished"}
    ends = [e for e in ledger_lines(study_dir) if e["state"] == "finished"]
    for entry in ends:
        assert json.loads((study_dir / entry["run_dir"] / "status.json").read_text())["state"] == "finished"
        assert entry["host"] and entry["cpu_seconds"] > 0
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["counts"] == {"finished": 2} and summary["rows"] == 2 * 2


def test_address_without_ray_executor_is_a_one_line_error(tmp_path):
    path, settings = tiny_study(tmp_path, name="bad-address")
    result = plastilab("run", str(path), "--out", str(tmp_path / "runs"), "--address", "10.0.0.1:6379", timeout=120)
    assert result.returncode == 2
    assert "--address" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()  # checked before any study folder is made


@pytest.mark.timeout(300)
def test_an_unreachable_ray_address_is_one_line_in_bounded_time_and_leaves_no_folder(tmp_path):
    import socket
    import time

    # A port on this machine that nothing listens on: refused at once. (An address that drops
    # packets instead waits out the bounded connect timeout, the same one line.)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path, settings = tiny_study(tmp_path, name="unreachable")
    started = time.monotonic()
    result = plastilab("run", str(path), "--out", str(tmp_path / "runs"), "--executor", "ray", "--address", f"127.0.0.1:{port}", timeout=240)
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1 and "no Ray cluster answers" in result.stderr
    assert not (tmp_path / "runs").exists()
    assert time.monotonic() - started < 200


def test_a_ray_address_is_parsed_as_host_and_port():
    from plastilab.studies.ray_address import host_and_port

    assert host_and_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert host_and_port("ray://head:10001") == ("head", 10001)
    assert host_and_port("auto") is None
