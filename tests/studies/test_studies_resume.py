"""Stopping a study: Ctrl-C leaves every trial's state truthful; a killed study resumes to the end
without rerunning what finished."""

from __future__ import annotations

import json
import os
import signal

import pytest

from studies_helpers import (
    assert_truthful_states,
    latest_states,
    ledger_lines,
    plastilab,
    running_status,
    signal_while_running,
    start,
    study_dirs,
    tiny_study,
    wait_for,
)


@pytest.mark.timeout(600)  # spawned workers import torch; slow while other processes load the cores
def test_ctrl_c_stops_every_worker_and_leaves_truthful_states(tmp_path):
    # Long trials (the stop must land while they run), two at a time, four in all.
    path, settings = tiny_study(tmp_path, name="stopped", seeds=4, steps=20000)
    code, stderr, study_dir = signal_while_running(path, settings, tmp_path / "runs", "stopped", signal.SIGINT, group=True)
    assert code == 130, stderr[-2000:]  # what Ctrl-C in a terminal does: SIGINT to the whole group
    assert "--resume" in stderr and "Traceback" not in stderr
    states = assert_truthful_states(study_dir, "stopped")
    assert set(states) == {"t000", "t001", "t002", "t003"}


@pytest.mark.timeout(900)
def test_a_killed_study_resumes_to_completion_without_rerunning_finished_trials(tmp_path):
    path, settings = tiny_study(tmp_path, name="resumed", seeds=4, steps=1000)
    out = tmp_path / "runs"
    # One trial at a time (a population of four would end all four at once; its resume is
    # test_studies_population_runs').
    process = start(path, out, settings, "--workers", "1", "--population-size", "1")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "resumed") or [None])[0], 120, "the study folder")
        wait_for(lambda: "finished" in latest_states(study_dir).values() and running_status(study_dir, stepped=False), 400, "one trial finished, the next running")
        os.kill(process.pid, signal.SIGKILL)  # the scheduler dies at once: no chance to tidy up
        process.communicate(timeout=60)
        # Its worker notices and stops the trial it was running (ends interrupted, files closed).
        wait_for(lambda: running_status(study_dir, stepped=False) is None, 120, "the orphaned worker to stop its trial")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    before = latest_states(study_dir)
    finished_before = {t for t, s in before.items() if s == "finished"}
    assert finished_before and "running" in before.values()  # the ledger still says running: nobody told it
    folders_before = {t: sorted(p.name for p in study_dir.glob(f"trials/resumed.{t}/*")) for t in finished_before}

    result = plastilab("run", "--resume", str(study_dir), "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    after = latest_states(study_dir)
    assert set(after.values()) == {"finished"} and len(after) == 4
    for trial in finished_before:
        # Not rerun: the same single run folder, and only the first run's "running" line.
        assert sorted(p.name for p in study_dir.glob(f"trials/resumed.{trial}/*")) == folders_before[trial]
        assert sum(1 for e in ledger_lines(study_dir) if e["trial"] == trial and e["state"] == "running") == 1
    interrupted = [t for t, s in before.items() if s == "running"]
    for trial in interrupted:  # the killed attempt is kept beside the rerun
        states = sorted(json.loads(p.read_text())["state"] for p in study_dir.glob(f"trials/resumed.{trial}/*/status.json"))
        assert states in (["finished", "interrupted"], ["finished", "finished"]), states
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["counts"] == {"finished": 4} and summary["rows"] == 4 * 2  # probe at steps 500 and 1000


@pytest.mark.timeout(900)
def test_a_resumed_study_continues_interrupted_trials_from_their_checkpoints(tmp_path):
    path, settings = tiny_study(tmp_path, name="checkpointed", seeds=2, steps=20000)
    out = tmp_path / "runs"
    process = start(path, out, [*settings, "checkpoint_every=500"], "--workers", "2")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "checkpointed") or [None])[0], 120, "the study folder")
        wait_for(lambda: list(study_dir.glob("trials/*/*/checkpoint.pt")), 300, "a trial's first checkpoint")
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr[-2000:]
    before = assert_truthful_states(study_dir, "checkpointed")
    went_on = {t for t, s in before.items() if s == "interrupted" and list(study_dir.glob(f"trials/checkpointed.{t}/*/checkpoint.pt"))}
    assert went_on  # the stop came after a checkpoint

    result = plastilab("run", "--resume", str(study_dir), "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert set(latest_states(study_dir).values()) == {"finished"}
    for trial in went_on:
        # the same run folder went on from its checkpoint: no second folder, a resume in its meta
        (folder,) = study_dir.glob(f"trials/checkpointed.{trial}/*/")
        assert json.loads((folder / "status.json").read_text())["state"] == "finished"
        resumes = json.loads((folder / "meta.json").read_text())["resumes"]
        assert len(resumes) == 1 and resumes[0]["step"] >= 500 and resumes[0]["step"] % 500 == 0
        records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        keys = [(r["step"], r["series"], r["tag"]) for r in records]
        assert max(r["step"] for r in records) == 20000
        assert len(keys) == len(set(keys))  # the lines after the checkpoint were dropped, not doubled
