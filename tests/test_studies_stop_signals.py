"""SIGTERM stops a study as Ctrl-C does, whether it reaches the scheduler alone (`kill`) or the
whole process group (`timeout`): no new trial starts, every running trial ends ``interrupted``
with its files closed (not killed and ``abandoned``), the ledger says so, and the exit code is 143."""

from __future__ import annotations

import json
import os
import signal

import pytest

from studies_helpers import latest_states, study_dirs, tiny_study, wait_for
from test_studies_resume import running_status, start


@pytest.mark.timeout(600)  # spawned workers import torch; slow while other processes load the cores
def test_sigterm_stops_every_worker_and_leaves_truthful_states(tmp_path):
    path, settings = tiny_study(tmp_path, name="terminated", seeds=3, steps=20000)
    out = tmp_path / "runs"
    process = start(path, out, settings, "--workers", "2")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "terminated") or [None])[0], 120, "the study folder")
        wait_for(lambda: running_status(study_dir), 240, "a trial to be running")
        os.kill(process.pid, signal.SIGTERM)  # the scheduler alone, as `kill` does
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 143, stderr[-2000:]
    assert "--resume" in stderr and "Traceback" not in stderr
    states = latest_states(study_dir)
    assert "running" not in states.values() and "interrupted" in states.values()
    assert set(states.values()) <= {"interrupted", "pending", "finished"}
    for trial, state in states.items():
        folders = list(study_dir.glob(f"trials/terminated.{trial}/*/status.json"))
        if state == "pending":
            assert folders == []
        else:
            (status,) = folders
            assert json.loads(status.read_text())["state"] == state


@pytest.mark.timeout(600)
def test_sigterm_to_the_whole_group_ends_trials_interrupted_not_abandoned(tmp_path):
    # `timeout` signals its whole process group: the workers get SIGTERM as well as the scheduler.
    path, settings = tiny_study(tmp_path, name="grouped", seeds=2, steps=20000)
    out = tmp_path / "runs"
    process = start(path, out, settings, "--workers", "2")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "grouped") or [None])[0], 120, "the study folder")
        wait_for(lambda: running_status(study_dir), 240, "a trial to be running")
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 143, stderr[-2000:]
    states = latest_states(study_dir)
    assert "interrupted" in states.values() and set(states.values()) <= {"interrupted", "pending", "finished"}
    for trial, state in states.items():
        for status in study_dir.glob(f"trials/grouped.{trial}/*/status.json"):
            assert json.loads(status.read_text())["state"] == state
