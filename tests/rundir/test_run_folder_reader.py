"""The run-folder reader on hand-written files: exactly which lines come back, where a tail
resumes, what is counted as skipped, and the shapes the small files are given.

Every expectation is written out in the test (a literal list, a byte count worked out by hand),
never computed with the reader; the tests take milliseconds (they are the reader's tests in
`make mutation`).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from plastilab.core.events import Histogram, Scalars, TaskBoundary
from plastilab.rundir import reader as reader_module
from plastilab.rundir.reader import JsonlTail, RunFolder, read_jsonl, read_meta
from plastilab.rundir.small_json import read_json
from plastilab.rundir.state import read_status


def line(step: int, series: str = "a", tag: str = "train/loss", value: float = 1.0) -> str:
    return json.dumps({"step": step, "series": series, "tag": tag, "value": value}) + "\n"


# -- JsonlTail --------------------------------------------------------------------------------
def test_a_tail_reads_only_what_was_appended_since_its_last_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = JsonlTail(path)
    assert tail.read_new() == []  # no file yet: nothing, no error
    path.write_text(line(1) + line(2))
    assert [r["step"] for r in tail.read_new()] == [1, 2]
    assert tail.offset == len(line(1)) + len(line(2))
    assert tail.read_new() == []
    with open(path, "a") as f:
        f.write(line(3))
    assert [r["step"] for r in tail.read_new()] == [3]
    assert tail.offset == path.stat().st_size and tail.skipped == 0


def test_a_half_written_line_is_left_for_the_next_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    whole, half = line(1), line(2)
    path.write_text(whole + half[:10])
    tail = JsonlTail(path)
    assert [r["step"] for r in tail.read_new()] == [1]
    assert tail.offset == len(whole)  # the partial line is not consumed
    with open(path, "a") as f:
        f.write(half[10:])
    assert [r["step"] for r in tail.read_new()] == [2] and tail.skipped == 0


def test_lines_that_are_not_json_objects_or_fail_the_check_are_skipped_and_counted(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1) + "not json\n" + "[1, 2]\n" + "\n" + line(2, tag="x") + "[" * 5000 + "\n" + line(3))
    tail = JsonlTail(path, check=lambda r: r["tag"] == "train/loss")
    assert [r["step"] for r in tail.read_new()] == [1, 3]
    # "not json", the list, the empty line, the tag the check refuses, the unbalanced brackets
    assert tail.skipped == 5
    unchecked = JsonlTail(path)
    assert [r["step"] for r in unchecked.read_new()] == [1, 2, 3] and unchecked.skipped == 4


def test_small_chunks_give_the_same_lines_as_one_read(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    text = line(1) + line(22, series="b") + "oops\n" + line(333, tag="task/index") + line(4)[:7]
    path.write_text(text)
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 5)  # every line spans several chunks
    tail = JsonlTail(path)
    assert [(r["step"], r["series"], r["tag"]) for r in tail.read_new()] == [(1, "a", "train/loss"), (22, "b", "train/loss"), (333, "a", "task/index")]
    assert tail.skipped == 1
    assert tail.offset == len(text) - 7  # up to the last newline


@pytest.mark.parametrize("chunk", [16, 100, 150, 1 << 20])  # the long line's end lands in different places of a chunk
def test_overlong_lines_are_skipped_once_each_and_the_lines_after_them_are_read(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(reader_module, "MAX_LINE_BYTES", 80)
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", chunk)
    path = tmp_path / "metrics.jsonl"
    long = json.dumps({"step": 2, "series": "a", "tag": "t", "value": 1.0, "pad": "x" * 200}) + "\n"
    path.write_text(line(1) + long + line(3) + line(4) + long + line(5) + line(6))
    tail = JsonlTail(path)
    assert [r["step"] for r in tail.read_new()] == [1, 3, 4, 5, 6]
    assert tail.skipped == 2 and tail.offset == path.stat().st_size
    with open(path, "a") as f:
        f.write(line(7))
    assert [r["step"] for r in tail.read_new()] == [7] and tail.skipped == 2


@pytest.mark.parametrize("chunk", [1 << 20, "the line"])  # one read; a chunk ending just before the newline
def test_a_line_of_exactly_the_limit_is_kept_and_one_byte_more_is_not(tmp_path, monkeypatch, chunk):
    exact = line(1)
    monkeypatch.setattr(reader_module, "MAX_LINE_BYTES", len(exact) - 1)  # without its newline
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", len(exact) - 1 if chunk == "the line" else chunk)
    path = tmp_path / "metrics.jsonl"
    path.write_text(exact + line(10) + line(1) + line(20))  # steps 10 and 20: one byte longer
    tail = JsonlTail(path)
    assert [r["step"] for r in tail.read_new()] == [1, 1] and tail.skipped == 2


def test_an_overlong_unfinished_line_is_dropped_up_to_its_newline(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_module, "MAX_LINE_BYTES", 80)
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 16)
    path = tmp_path / "metrics.jsonl"
    path.write_text(line(1) + "y" * 100)  # a writer still in the middle of a long line
    tail = JsonlTail(path)
    assert [r["step"] for r in tail.read_new()] == [1] and tail.skipped == 1
    with open(path, "a") as f:
        f.write("y" * 100 + "\n" + line(5))
    assert [r["step"] for r in tail.read_new()] == [5] and tail.skipped == 1  # counted once


def test_read_jsonl_reads_every_whole_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(line(1) + line(2) + '{"step": 3')
    assert read_jsonl(path) == [json.loads(line(1)), json.loads(line(2))]


# -- the small files --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", None),  # not an object
        ("{", None),
        ("[" * 100_000, None),  # too deep for the parser
    ],
)
def test_read_json_gives_an_object_or_none(tmp_path, text, expected):
    path = tmp_path / "x.json"
    path.write_text(text)
    assert read_json(path) == expected


def test_read_json_of_a_missing_file_is_none(tmp_path):
    assert read_json(tmp_path / "missing.json") is None


def test_read_status_gives_each_field_the_shape_its_readers_use(tmp_path):
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"state": "finished", "last_step": 120, "pid": 4242, "error": "disk full"}))
    assert read_status(tmp_path) == {"state": "finished", "last_step": 120, "pid": 4242, "error": "disk full"}
    path.write_text(json.dumps({"state": 3, "last_step": True, "pid": 0, "error": ""}))
    assert read_status(tmp_path) == {"state": "unknown", "last_step": 0, "pid": None}
    path.write_text(json.dumps({"state": "", "last_step": -5, "pid": "12"}))
    assert read_status(tmp_path) == {"state": "unknown", "last_step": 0, "pid": None}
    path.write_text(json.dumps({"state": "s" * 50, "last_step": 2**63, "error": None}))
    assert read_status(tmp_path) == {"state": "s" * 39 + "…", "last_step": 0}
    path.write_text(json.dumps({"state": "failed", "last_step": 2**63 - 1, "pid": False, "error": "x" * 3000 + "\x1b"}))
    shaped = read_status(tmp_path)
    assert shaped["last_step"] == 2**63 - 1 and shaped["pid"] is None
    assert shaped["error"] == "x" * 1999 + "…"
    path.write_text(json.dumps({"state": "failed", "error": "line one\nline \x1b[2J two"}))
    assert read_status(tmp_path) == {"state": "failed", "last_step": 0, "error": "line one\\nline \\x1b[2J two"}
    path.write_text("[]")
    assert read_status(tmp_path) == {}


def test_read_meta_gives_each_field_the_shape_its_readers_use(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({
        "scenario": "adam-tiny", "kind": "adam_instability", "device": "cpu", "started": "2026-12-01T18:00:00+0000",
        "series": ["a", "b"], "total_steps": 450, "seed": 3, "torch": "2.5",
    }))
    assert read_meta(path) == {
        "scenario": "adam-tiny", "kind": "adam_instability", "device": "cpu", "started": "2026-12-01T18:00:00+0000",
        "series": ["a", "b"], "total_steps": 450, "seed": 3, "torch": "2.5",
    }
    path.write_text(json.dumps({
        "scenario": 5, "kind": "", "device": "d" * 100, "started": 12, "series": ["a", "", 3, "b\x1b", "s" * 250],
        "total_steps": -1, "seed": "0",
    }))
    assert read_meta(path) == {
        "scenario": "?", "kind": "?", "device": "d" * 79 + "…", "started": "?", "series": ["a", "b\\x1b", "s" * 199 + "…"],
        "total_steps": 0, "seed": 0,
    }
    path.write_text(json.dumps({"series": "ab", "total_steps": 2.5}))
    assert read_meta(path) == {"series": [], "total_steps": 0}
    path.write_text("3")
    assert read_meta(path) is None


# -- a whole run folder -------------------------------------------------------------------------
def test_an_empty_folder_opens_with_the_defaults(tmp_path):
    run = RunFolder.open(tmp_path)
    assert (run.path, run.meta, run.status, run.summary, run.scenario) == (tmp_path, {}, {"state": "unknown", "last_step": 0}, None, {})
    assert run.state == "unknown"
    assert run.events() == [] and run.summary_or_rebuilt() == {"series": {}}


def test_a_folder_opens_with_its_files_read_and_shaped(tmp_path):
    (tmp_path / "scenario.toml").write_text('kind = "adam_instability"\nname = "adam-tiny"\n')
    (tmp_path / "meta.json").write_text(json.dumps({"scenario": "adam-tiny", "series": ["a"], "total_steps": 20}))
    (tmp_path / "status.json").write_text(json.dumps({"state": "interrupted", "last_step": 20}))
    summary = {"state": "interrupted", "series": {"a": {"last_step": 20, "final": {"train/loss": 0.5}, "per_task": {}}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    run = RunFolder.open(tmp_path)
    assert run.scenario == {"kind": "adam_instability", "name": "adam-tiny"}
    assert run.meta == {"scenario": "adam-tiny", "series": ["a"], "total_steps": 20}
    assert run.status == {"state": "interrupted", "last_step": 20} and run.state == "interrupted"
    assert run.summary == summary and run.summary_or_rebuilt() == summary


def test_a_damaged_scenario_file_reads_as_empty(tmp_path):
    (tmp_path / "scenario.toml").write_text("this is = = not toml")
    assert RunFolder.open(tmp_path).scenario == {}


@pytest.mark.parametrize(
    "summary",
    [
        [1, 2],
        {"series": [1]},
        {"series": {"a": 3}},
        {"series": {"a": {"final": [1.0]}}},
        {"series": {"a": {"per_task": [1.0]}}},
        {"series": {"a": {"final": {"loss": "low"}}}},
        {"series": {"a": {"final": {"loss": True}}}},
        {"series": {"a": {"final": {"loss": 1e309}}}},  # json turns 1e309 into inf
        {"series": {"a": {"final": {"loss": 1.71e308}}}},  # past the limit the dashboard can draw
        {"series": {"a": {"per_task": {"task/final_loss": 0.5}}}},
        {"series": {"a": {"per_task": {"task/final_loss": [0.5, "x"]}}}},
    ],
)
def test_a_summary_of_the_wrong_shape_is_not_trusted_and_is_rebuilt_from_metrics(tmp_path, summary):
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    (tmp_path / "metrics.jsonl").write_text(line(10, tag="task/final_loss", value=0.5) + line(20, tag="task/final_loss", value=0.25))
    run = RunFolder.open(tmp_path)
    assert run.summary is None
    assert run.summary_or_rebuilt() == {
        "series": {"a": {"last_step": 20, "final": {"task/final_loss": 0.25}, "per_task": {"task/final_loss": [0.5, 0.25]}}}
    }


def test_a_summary_with_missing_parts_or_nulls_is_trusted(tmp_path):
    summary = {"series": {"a": {"final": {"loss": None, "n": 3, "big": 1.7e308}, "per_task": {"task/final_loss": [None, -1.7e308]}}, "b": {}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert RunFolder.open(tmp_path).summary == summary
    (tmp_path / "summary.json").write_text(json.dumps({"state": "finished"}))
    assert RunFolder.open(tmp_path).summary == {"state": "finished"}


def test_a_damaged_scenario_summary_is_dropped_and_the_rest_kept(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"state": "finished", "series": {}, "scenario_summary": [1]}))
    assert RunFolder.open(tmp_path).summary == {"state": "finished", "series": {}}
    kept = {"state": "finished", "series": {}, "scenario_summary": {"ranking": []}}
    (tmp_path / "summary.json").write_text(json.dumps(kept))
    assert RunFolder.open(tmp_path).summary == kept


def test_events_are_the_scalars_then_the_arrays_in_file_order(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(
        line(0, tag="task/index", value=0) + line(10) + line(10, tag="grads/norm", value=2.0) + "junk\n"
        + json.dumps({"step": 10, "tag": "x", "value": 1.0}) + "\n" + line(20, series="b", value=0.5)
    )
    (tmp_path / "arrays").mkdir()
    np.savez_compressed(tmp_path / "arrays" / "h.npz", counts=np.array([1, 2]), edges=np.array([0.0, 1.0, 2.0]))
    arrays = [
        {"step": 10, "series": "a", "tag": "hessian/density", "kind": "histogram", "file": "arrays/h.npz"},
        {"step": 20, "series": "a", "tag": "hessian/density", "kind": "histogram", "file": "arrays/missing.npz"},
        {"step": 20, "series": "a", "tag": "hessian/density", "kind": "banana", "file": "arrays/h.npz"},
    ]
    (tmp_path / "arrays.jsonl").write_text("".join(json.dumps(r) + "\n" for r in arrays))
    events = RunFolder.open(tmp_path).events()
    assert events[:3] == [
        TaskBoundary(0, 0, series="a"),
        Scalars(10, "a", {"train/loss": 1.0, "grads/norm": 2.0}, 0.0),
        Scalars(20, "b", {"train/loss": 0.5}, 0.0),
    ]
    assert len(events) == 4 and isinstance(events[3], Histogram)
    assert (events[3].step, events[3].series, events[3].tag) == (10, "a", "hessian/density")
    assert events[3].counts.tolist() == [1, 2] and events[3].edges.tolist() == [0.0, 1.0, 2.0]


def test_the_metrics_tail_counts_lines_that_are_not_scalar_records(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(line(1) + json.dumps({"step": 2, "tag": "t", "value": 1.0}) + "\n" + line(3))
    tail = RunFolder.open(tmp_path).metrics_tail()
    assert [r["step"] for r in tail.read_new()] == [1, 3] and tail.skipped == 1
