"""SIGTERM stops a study as Ctrl-C does, whether it reaches the scheduler alone (`kill`) or the
whole process group (`timeout`): no new trial starts, every running trial ends ``interrupted``
with its files closed (not killed and ``abandoned``), the ledger says so, and the exit code is 143."""

from __future__ import annotations

import signal

import pytest

from studies_helpers import assert_truthful_states, signal_while_running, tiny_study


@pytest.mark.timeout(600)  # spawned workers import torch; slow while other processes load the cores
def test_sigterm_stops_every_worker_and_leaves_truthful_states(tmp_path):
    path, settings = tiny_study(tmp_path, name="terminated", seeds=3, steps=20000)
    code, stderr, study_dir = signal_while_running(path, settings, tmp_path / "runs", "terminated", signal.SIGTERM, group=False)
    assert code == 143, stderr[-2000:]  # the scheduler alone, as `kill` does
    assert "--resume" in stderr and "Traceback" not in stderr
    assert_truthful_states(study_dir, "terminated")


@pytest.mark.timeout(600)
def test_sigterm_to_the_whole_group_ends_trials_interrupted_not_abandoned(tmp_path):
    # `timeout` signals its whole process group: the workers get SIGTERM as well as the scheduler.
    path, settings = tiny_study(tmp_path, name="grouped", seeds=2, steps=20000)
    code, stderr, study_dir = signal_while_running(path, settings, tmp_path / "runs", "grouped", signal.SIGTERM, group=True)
    assert code == 143, stderr[-2000:]
    assert_truthful_states(study_dir, "grouped")
