"""Folding events into what the dashboard shows; replaying, following and comparing run folders."""

from __future__ import annotations

import json

from plastilab.core.events import RunFailed, RunStarted, Scalars, TaskBoundary
from plastilab.runtime.run_state import RunState, format_clock, format_value
from plastilab.rundir.state import record_end_for_dead_writer
from plastilab.runtime.replay_sources import CompareSource, FolderSource


def replay(source) -> RunState:
    state = RunState()
    while not source.done:
        state.apply_all(source.poll(0))
    return state


def test_replaying_a_recorded_run_gives_its_numbers(recorded_run):
    state = replay(FolderSource(recorded_run))
    assert state.state == "finished"
    assert state.series == ["adam-default", "adam-beta2-eps", "sgd"]
    assert state.total_steps == 900 and state.step() == 900
    assert state.boundaries == [150, 300, 450, 600, 750]
    assert "train/loss" in state.tags() and "task/index" not in state.tags()
    summary = json.loads((recorded_run / "summary.json").read_text())
    for name in state.series:
        assert state.latest[name]["train/loss"] == summary["series"][name]["final"]["train/loss"]
    rate = state.steps_per_second()
    assert rate is not None and rate > 0
    assert state.eta_seconds() is None  # it has ended
    assert state.elapsed_seconds() > 0


def test_following_a_folder_picks_up_appended_lines(instrument_run):
    metrics = instrument_run / "metrics.jsonl"
    status = instrument_run / "status.json"
    lines = metrics.read_text().splitlines(keepends=True)
    status_text = status.read_text()
    status.write_text(json.dumps({"state": "running", "last_step": 0, "pid": 1}))  # pid 1 lives
    metrics.write_text("".join(lines[:10]) + lines[10][:7])  # and a half-written line
    source = FolderSource(instrument_run, follow=True)
    state = RunState(live=True)
    state.apply_all(source.poll(0))
    first = sum(h.count for s in state.scalars.values() for h in s.values())
    assert state.state == "running" and first > 0
    with metrics.open("a") as f:
        f.write(lines[10][7:] + "".join(lines[11:]))
    status.write_text(status_text)
    while not source.done:
        state.apply_all(source.poll(0))
    total = sum(h.count for s in state.scalars.values() for h in s.values())
    assert total > first and state.state == "finished"
    assert state.arrays["gradients/covariance"]["sgd"].values.shape == (12, 12)  # keyed by tag, then series
    assert any(line.level == "warning" for line in state.logs)


def test_a_followed_run_whose_writer_is_gone_ends_as_abandoned(instrument_run):
    # The same word plastilab report and the runs list use (rundir.state.read_state); it said "failed".
    (instrument_run / "status.json").write_text(json.dumps({"state": "running", "last_step": 40, "pid": 2**22 + 12345}))
    source = FolderSource(instrument_run, follow=True)
    state = replay(source)
    assert state.state == "abandoned" and state.ended and "is gone" in state.error


def test_comparing_two_runs_prefixes_their_series(recorded_run, instrument_run):
    state = RunState(overlay=True)
    source = CompareSource([recorded_run, instrument_run])
    while not source.done:
        state.apply_all(source.poll(0))
    assert state.steps_per_second() is None and state.elapsed_seconds() is None  # two clocks: no speed
    assert state.series[:3] == ["A:adam-default", "A:adam-beta2-eps", "A:sgd"]
    assert state.series[3:] == ["B:adam-default", "B:sgd"]
    assert state.latest["B:sgd"]["train/loss"] > 0
    assert "B:sgd" in state.arrays["gradients/covariance"]


def test_state_from_events_and_a_failure():
    state = RunState(live=True)
    state.apply(RunStarted("s", "k", ("a", "b"), 100, "cpu", 0))
    state.apply(TaskBoundary(0, 0))
    for step in range(0, 60, 10):
        state.apply(Scalars(step, "a", {"train/loss": 1.0 / (step + 1)}, 100.0 + step))
        state.apply(Scalars(step, "b", {"train/loss": float("nan")}, 100.0 + step))
    state.apply(TaskBoundary(50, 1))
    assert state.progress() == 50 and state.tasks == 2 and state.boundaries == [50]
    assert abs(state.steps_per_second() - 1.0) < 1e-6
    assert abs(state.eta_seconds() - 50.0) < 1e-6
    assert format_value(state.latest["b"]["train/loss"]) == "nan"
    state.apply(RunFailed(50, "NonFiniteLoss: series b"))
    assert state.state == "failed" and state.logs[-1].level == "error"
    assert format_clock(3725) == "1:02:05" and format_clock(None) == "–"


def test_mark_failed_records_why_but_never_overwrites_an_end(instrument_run, tmp_path):
    record_end_for_dead_writer(instrument_run, "failed", "killed", 10)
    assert json.loads((instrument_run / "status.json").read_text())["state"] == "finished"
    (instrument_run / "status.json").write_text(json.dumps({"state": "running", "last_step": 5}))
    record_end_for_dead_writer(instrument_run, "failed", "killed by SIGKILL", 10)
    status = json.loads((instrument_run / "status.json").read_text())
    assert status == {"state": "failed", "last_step": 10, "error": "killed by SIGKILL", "updated": status["updated"]}


def test_form_values_are_one_line_and_read_back():
    from plastilab.core.scenario_file import parse_value
    from plastilab.studies.scenario_form import toml_text

    for value in (["image_random", "sparse"], [64, 64], 3e-4, True):
        text = toml_text(value)
        assert "\n" not in text
        assert parse_value(text) == value
