"""Readers never crash, hang or wander (issue 11, findings 5 and 7).

Each test damages a small hand-made run folder the way the issue did and reads it with every
reader: ``report``, the dashboard's folder source (what ``watch`` uses) with the dashboard's
state, and the runs screen's index. A reader that blocks on a FIFO is caught by running it in
a thread with a generous deadline instead of hanging the suite.
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from plastilab.core.events import Histogram, Log, RunFailed, RunFinished
from plastilab.headless.report import BoundedCurve, print_report
from plastilab.rundir.reader import JsonlTail, RunFolder, load_array_event
from plastilab.rundir.small_json import read_json
from plastilab.rundir.state import read_status
from plastilab.studies.listing import read_run
from plastilab.runtime.run_state import RunState
from plastilab.runtime.replay_sources import FolderSource

DEADLINE_S = 60  # generous: a busy machine; a blocked read never returns at all


def line(step: int, series: str, tag: str, value, **extra) -> str:
    return json.dumps({"step": step, "series": series, "tag": tag, "value": value, "wall_time": 1.0 + step, **extra}) + "\n"


def make_run(root: Path, extra_metrics: str = "", summary: object | None = None, arrays: list[dict] | None = None) -> Path:
    """A finished run of two series over two tasks, plus whatever damage the test adds."""
    run = root / "demo" / "20260101-000000-abcdef"
    (run / "arrays" / "a").mkdir(parents=True)
    metrics = []
    for series in ("a", "b"):
        metrics.append(line(0, series, "task/index", 0.0))
        for step in range(0, 100, 10):
            metrics.append(line(step, series, "train/loss", 2.0 - step / 100))
        metrics.append(line(50, series, "task/index", 1.0))
        metrics.append(line(50, series, "task/final_loss", 0.5))
    (run / "metrics.jsonl").write_text("".join(metrics) + extra_metrics)
    np.savez_compressed(run / "arrays" / "a" / "h.npz", counts=np.array([1, 2, 3]), edges=np.array([0.0, 1.0, 2.0, 3.0]))
    records = [{"step": 90, "series": "a", "tag": "units/hist", "kind": "histogram", "file": "arrays/a/h.npz"}, *(arrays or [])]
    (run / "arrays.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "meta.json").write_text(json.dumps({"scenario": "demo", "kind": "adam_instability", "series": ["a", "b"], "total_steps": 100}))
    (run / "status.json").write_text(json.dumps({"state": "finished", "last_step": 90, "pid": 0}))
    (run / "log.jsonl").write_text(json.dumps({"level": "warning", "message": "careful", "step": 3}) + "\n")
    if summary is not None:
        (run / "summary.json").write_text(summary if isinstance(summary, str) else json.dumps(summary))
    return run


def within_deadline(fn, *args):
    """``fn(*args)`` in a thread; fails the test (instead of hanging it) past DEADLINE_S."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), f"{fn.__name__} blocked for {DEADLINE_S} s"
    if "error" in result:
        raise result["error"]
    return result.get("value")


def report_text(run: Path) -> str:
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    print_report(run, console)
    return console.file.getvalue()


def watch_events(run: Path) -> list:
    """What ``plastilab watch`` would show: the folder source's events folded into the
    dashboard's state (the part of the dashboard that can choke on a bad value)."""
    source = FolderSource(run, follow=False)
    state = RunState()
    events = []
    for _ in range(5):
        if source.done:
            break
        batch = source.poll(0.01)
        state.apply_all(batch)
        events.extend(batch)
    return events


def read_with_every_reader(run: Path) -> tuple[str, list]:
    text = within_deadline(report_text, run)
    events = within_deadline(watch_events, run)
    info = within_deadline(read_run, run)
    assert info.scenario and isinstance(info.last_step, int)
    return text, events


# -- the cases --------------------------------------------------------------------------
DAMAGED_LINES = {
    "wall_time_text": line(95, "a", "train/loss", 1.0).replace('"wall_time": 96.0', '"wall_time": "x"'),
    "task_index_nan": json.dumps({"step": 95, "series": "a", "tag": "task/index", "value": None, "nonfinite": "nan"}) + "\n",
    "nonfinite_banana": json.dumps({"step": 95, "series": "a", "tag": "train/loss", "value": None, "nonfinite": "banana"}) + "\n",
    "value_text": line(95, "a", "train/loss", "1.0"),
    "step_text": line(95, "a", "train/loss", 1.0).replace('"step": 95', '"step": "95"'),
    "huge_int": '{"step": 95, "series": "a", "tag": "train/loss", "value": ' + "9" * 400 + "}\n",
    "not_json": "{this is not json\n",
    "a_list": "[1, 2, 3]\n",
    "deep": "[" * 100_000 + "]" * 100_000 + "\n",
    "binary": "\udcff\n".encode("utf-8", "surrogateescape").decode("latin-1"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED_LINES))
def test_a_malformed_metrics_line_is_skipped_and_counted(tmp_path, name):
    run = make_run(tmp_path, extra_metrics=DAMAGED_LINES[name])
    text, events = read_with_every_reader(run)
    assert "1 malformed line skipped" in text
    assert any(isinstance(e, Log) and "malformed" in e.message for e in events)
    assert isinstance(events[-1], RunFinished)


def test_a_value_of_1e308_is_drawn_without_overflow(tmp_path):
    run = make_run(tmp_path, extra_metrics=line(95, "a", "train/loss", 1e308) + line(95, "b", "train/loss", -1e308))
    text, events = read_with_every_reader(run)
    assert "train/loss by step" in text and "malformed" not in text


@pytest.mark.parametrize(
    "summary",
    [
        {"series": {"a": {"final": {"train/loss": "low"}, "per_task": {}}}},
        {"series": {"a": {"final": {}, "per_task": {"task/final_loss": ["x", None]}}}},
        {"series": ["a"]},
        "[1, 2",
        "[]",
    ],
)
def test_a_damaged_summary_is_rebuilt_from_metrics(tmp_path, summary):
    run = make_run(tmp_path, summary=summary)
    text, _ = read_with_every_reader(run)
    assert "task 1" in text and "0.50" in text


@pytest.mark.parametrize(
    "extra",
    [{"ranking": [{"rank": "1", "name": 5}]}, {"ranking": "all"}, {"ranking": [None, {"rank": 1, "name": "x", "change": "up"}]}, "text"],
)
def test_a_damaged_ranking_is_left_out(tmp_path, extra):
    run = make_run(tmp_path, summary={"series": {"a": {"final": {"train/loss": 1.0}, "per_task": {}}}, "scenario_summary": extra})
    text, _ = read_with_every_reader(run)
    assert "ranking: mean final loss" not in text and "demo:" in text


@pytest.mark.parametrize(
    "status",
    ['{"state": 5, "last_step": "x", "pid": "me", "error": ["a"]}', '{"state": "running", "last_step": -3, "pid": true}', "[]", "{"],
)
def test_a_damaged_status_is_read_as_unknown_parts(tmp_path, status):
    run = make_run(tmp_path)
    (run / "status.json").write_text(status)
    read_with_every_reader(run)
    assert isinstance(RunFolder.open(run).status["last_step"], int)


def test_a_damaged_meta_does_not_stop_the_dashboard(tmp_path):
    run = make_run(tmp_path)
    (run / "meta.json").write_text(json.dumps({"scenario": {"x": 1}, "series": [1, None, "a"], "total_steps": "many", "seed": "s"}))
    _, events = read_with_every_reader(run)
    assert events[0].series == ("a",)


@pytest.mark.parametrize(
    "record",
    [
        {"step": 1, "series": "a", "tag": "t", "kind": "histogram", "file": 5},
        {"step": 1, "series": "a", "tag": "t", "kind": "histogram", "file": None},
        {"step": "1", "series": "a", "tag": "t", "kind": "histogram", "file": "arrays/a/h.npz"},
        {"step": 1, "series": "a", "tag": "t", "kind": "banana", "file": "arrays/a/h.npz"},
        {"step": 1, "series": "a", "tag": "t", "kind": "matrix", "file": "arrays/a/h.npz"},  # wrong arrays for the kind
        {"step": 1, "series": "a", "tag": "t", "kind": "histogram", "file": "arrays/missing.npz"},
        {"step": 1, "series": "a", "tag": "t", "kind": "histogram", "file": "metrics.jsonl"},  # not an npz
    ],
)
def test_a_malformed_arrays_line_is_skipped(tmp_path, record):
    run = make_run(tmp_path, arrays=[record])
    _, events = read_with_every_reader(run)
    assert sum(isinstance(e, Histogram) for e in events) == 1  # the good one only
    assert any(isinstance(e, Log) and "malformed" in e.message for e in events)


def test_arrays_outside_the_run_folder_are_never_loaded(tmp_path):
    outside = tmp_path / "elsewhere.npz"
    np.savez_compressed(outside, counts=np.array([9]), edges=np.array([0.0, 1.0]))
    run = make_run(tmp_path / "runs")
    (run / "arrays" / "link.npz").symlink_to(outside)
    base = {"step": 1, "series": "a", "tag": "t", "kind": "histogram"}
    for file in (str(outside), "../../../elsewhere.npz", "arrays/../../../../elsewhere.npz", "arrays/link.npz"):
        assert load_array_event(run, {**base, "file": file}) is None, file
    assert load_array_event(run, {**base, "file": "arrays/a/h.npz"}) is not None


def test_an_arrays_line_pointing_at_a_fifo_does_not_hang(tmp_path):
    run = make_run(tmp_path, arrays=[{"step": 1, "series": "a", "tag": "t", "kind": "histogram", "file": "arrays/pipe.npz"}])
    os.mkfifo(run / "arrays" / "pipe.npz")
    read_with_every_reader(run)


@pytest.mark.parametrize("name", ["metrics.jsonl", "status.json", "meta.json", "summary.json", "arrays.jsonl", "log.jsonl", "scenario.toml"])
def test_special_files_never_block_or_crash(tmp_path, name):
    for kind in ("fifo", "directory"):
        run = make_run(tmp_path / kind)
        (run / name).unlink(missing_ok=True)
        if kind == "fifo":
            os.mkfifo(run / name)
        else:
            (run / name).mkdir()
        read_with_every_reader(run)


def test_an_overlong_line_is_skipped_in_bounded_memory(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1, "a", "t", 1.0) + '{"x": "' + "y" * (3 << 20) + '"}\n' + line(2, "a", "t", 2.0))
    tail = JsonlTail(path)
    assert [r["step"] for r in tail.read_new()] == [1, 2] and tail.skipped == 1


def test_a_half_written_last_line_waits_for_its_end(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1, "a", "t", 1.0) + '{"step": 2, "ser')
    tail = JsonlTail(path)
    assert len(tail.read_new()) == 1 and tail.skipped == 0
    with open(path, "a") as f:
        f.write('ies": "a", "tag": "t", "value": 2.0}\n')
    assert [r["step"] for r in tail.read_new()] == [2] and tail.skipped == 0


def test_small_json_readers_refuse_huge_files(tmp_path):
    path = tmp_path / "status.json"
    with open(path, "wb") as f:
        f.truncate(64 << 20)
    assert read_json(path) is None and read_status(tmp_path) == {}


def test_escapes_in_a_run_folder_never_reach_the_terminal(tmp_path):
    run = make_run(tmp_path)
    (run / "status.json").write_text(json.dumps({"state": "failed", "last_step": 1, "error": "\x1b[2Jboom [bold]x[/bold]\n2nd"}))
    (run / "meta.json").write_text(json.dumps({"scenario": "\x1b]0;title\x07demo", "series": ["a", "b"]}))
    text, events = read_with_every_reader(run)
    assert "\x1b" not in text and "\x07" not in text and "[bold]x[/bold]" in text
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert failed and "\x1b" not in failed[0].error and "\n" not in failed[0].error


def test_a_bounded_curve_keeps_its_spike_and_its_size():
    curve = BoundedCurve(capacity=100)
    for x in range(1_000_000):
        curve.add(x, 1000.0 if x == 654_321 else 1.0)
    xs, ys = curve.points()
    assert len(xs) <= 200 and max(ys) == 1000.0 and xs == sorted(xs)
