"""The run-folder writer, event by event, checked on the files it leaves on disk.

No training here: each test hands the writer a few events written out by hand and compares what
is on disk with expectations spelled out in the test, so a run of these takes a fraction of a
second (they are the writer's tests in `make mutation`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import tomllib

import numpy as np
import pytest
import torch

from plastilab import __version__
from plastilab.core.events import (
    Curve,
    Histogram,
    Log,
    Matrix,
    RunFailed,
    RunFinished,
    RunInterrupted,
    RunStarted,
    Scalars,
    TaskBoundary,
)
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import writer as writer_module
from plastilab.rundir.writer import RunFolderWriter, WriteFailed

from paths import SCENARIOS

COMMAND = ["plastilab", "run", "adam-tiny.toml"]


@pytest.fixture
def scenario():
    return load_scenario(SCENARIOS / "adam-tiny.toml", ["training.lr=0.002"])


def started(run_dir, series=("a", "b")) -> RunStarted:
    return RunStarted("adam-tiny", "adam_instability", series, 40, "cpu", 7, str(run_dir))


def lines_on_disk(path) -> list[dict]:
    """The file as another process sees it now (no help from the writer's buffers): every line
    must be whole JSON."""
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), f"{path.name} ends in a partial line: {text[-80:]!r}"
    return [json.loads(line) for line in text.splitlines()]


def status(run_dir) -> dict:
    return json.loads((run_dir / "status.json").read_text())


def test_a_new_writer_writes_the_resolved_scenario_and_a_running_status(scenario, tmp_path):
    run_dir = tmp_path / "runs" / "adam-tiny" / "one"  # parents made as needed
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    resolved = tomllib.loads((run_dir / "scenario.toml").read_text(encoding="utf-8"))
    assert resolved["name"] == "adam-tiny" and resolved["training"]["lr"] == 0.002
    assert resolved["training"]["n_tasks"] == 3 and resolved["variants"]["sgd"]["optimizer"] == "sgd"
    assert not list(run_dir.glob("*.tmp"))  # written through a temporary copy, then renamed
    first = status(run_dir)
    assert first["state"] == "running" and first["last_step"] == 0
    for name in ("metrics.jsonl", "arrays.jsonl", "log.jsonl"):
        assert (run_dir / name).read_text() == ""
    writer.close()


def test_a_writer_appends_to_the_files_it_finds(scenario, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    kept = json.dumps({"step": 1, "series": "a", "tag": "train/loss", "value": 3.0, "wall_time": 1.0}) + "\n"
    (run_dir / "metrics.jsonl").write_text(kept)
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(Scalars(2, "a", {"train/loss": 2.0}, 2.0))
    assert [r["step"] for r in lines_on_disk(run_dir / "metrics.jsonl")] == [1, 2]
    writer.close()


def test_meta_records_versions_device_seed_series_and_command(scenario, tmp_path):
    run_dir = tmp_path / "run"
    before = time.time()
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(started(run_dir))
    meta = json.loads((run_dir / "meta.json").read_text())
    started_at = time.mktime(time.strptime(meta.pop("started"), "%Y-%m-%dT%H:%M:%S%z"))
    assert before - 2 <= started_at <= time.time() + 1
    assert meta == {
        "plastilab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": "cpu",
        "seed": 7,
        "threads": torch.get_num_threads(),
        "scenario": "adam-tiny",
        "kind": "adam_instability",
        "series": ["a", "b"],
        "total_steps": 40,
        "command": COMMAND,
    }
    assert status(run_dir)["state"] == "running"
    writer.close()


def test_the_command_defaults_to_this_process_argv(scenario, tmp_path):
    writer = RunFolderWriter(tmp_path / "run", scenario)
    writer.handle(started(tmp_path / "run"))
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["command"] == sys.argv
    writer.close()


def test_every_line_is_on_disk_and_whole_after_each_event_without_closing(scenario, tmp_path):
    """What ``plastilab watch`` relies on: the writer flushes after every event."""
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(started(run_dir))
    writer.handle(Scalars(10, "a", {"train/loss": 0.5, "grads/norm": 3.0}, 1010.0))
    assert len(lines_on_disk(run_dir / "metrics.jsonl")) == 2
    writer.handle(TaskBoundary(10, 1))
    assert len(lines_on_disk(run_dir / "metrics.jsonl")) == 4  # one task/index per series
    writer.handle(Log("warning", "lr is large", 10))
    assert len(lines_on_disk(run_dir / "log.jsonl")) == 1
    writer.handle(Histogram(10, "a", "hessian/density", np.array([1, 2]), np.array([0.0, 0.5, 1.0])))
    assert len(lines_on_disk(run_dir / "arrays.jsonl")) == 1
    writer.handle(Scalars(20, "b", {"train/loss": 0.25}, 1020.0))
    assert len(lines_on_disk(run_dir / "metrics.jsonl")) == 5
    writer.close()


def test_scalars_are_one_record_per_tag_with_floats_and_nonfinite_flagged(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(Scalars(10, "a", {"train/loss": 0.5, "units/dead": 2, "grads/norm": float("nan")}, 1010.0))
    writer.handle(Scalars(10, "b", {"train/loss": float("-inf")}, 1011.25))
    text = (run_dir / "metrics.jsonl").read_text()
    assert '"value": 2.0' in text  # an int becomes a float
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    assert lines_on_disk(run_dir / "metrics.jsonl") == [
        {"step": 10, "series": "a", "tag": "train/loss", "value": 0.5, "wall_time": 1010.0},
        {"step": 10, "series": "a", "tag": "units/dead", "value": 2.0, "wall_time": 1010.0},
        {"step": 10, "series": "a", "tag": "grads/norm", "value": None, "wall_time": 1010.0, "nonfinite": "nan"},
        {"step": 10, "series": "b", "tag": "train/loss", "value": None, "wall_time": 1011.25, "nonfinite": "-inf"},
    ]
    writer.close()


def test_a_task_boundary_marks_every_series_or_the_one_it_names(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(started(run_dir, series=("a", "b", "c")))
    before = time.time()
    writer.handle(TaskBoundary(40, 2))
    writer.handle(TaskBoundary(50, 3, series="b"))
    records = lines_on_disk(run_dir / "metrics.jsonl")
    assert [(r["step"], r["series"], r["tag"], r["value"]) for r in records] == [
        (40, "a", "task/index", 2.0),
        (40, "b", "task/index", 2.0),
        (40, "c", "task/index", 2.0),
        (50, "b", "task/index", 3.0),
    ]
    assert all(before - 1 <= r["wall_time"] <= time.time() + 1 for r in records)
    writer.close()


def test_log_lines_keep_level_message_step_and_time(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    before = time.time()
    writer.handle(Log("warning", "the loss of series 'sgd' is rising", 30))
    writer.handle(Log("info", "no step"))
    first, second = lines_on_disk(run_dir / "log.jsonl")
    assert before - 1 <= first.pop("wall_time") <= time.time() + 1
    assert first == {"level": "warning", "message": "the loss of series 'sgd' is rising", "step": 30}
    assert second["level"] == "info" and second["message"] == "no step" and second["step"] is None
    writer.close()


def test_arrays_go_to_one_npz_each_named_by_series_tag_and_step(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(Histogram(5, "a/s0", "hessian/density", np.array([3, 1]), np.array([0.0, 0.5, 1.0])))
    writer.handle(Matrix(6, "b", "gradients/gram", np.array([[1.0, 0.5], [0.5, 1.0]]), ("t0", "t1")))
    writer.handle(Matrix(7, "b", "gradients/gram", np.eye(2)))
    writer.handle(Curve(1234567, "b", "probe/curve", np.array([0, 1, 2]), np.array([1.0, 0.5, 0.25])))
    records = lines_on_disk(run_dir / "arrays.jsonl")
    assert records == [
        {"step": 5, "series": "a/s0", "tag": "hessian/density", "kind": "histogram", "file": "arrays/a_s0/hessian_density/000000005.npz"},
        {"step": 6, "series": "b", "tag": "gradients/gram", "kind": "matrix", "file": "arrays/b/gradients_gram/000000006.npz"},
        {"step": 7, "series": "b", "tag": "gradients/gram", "kind": "matrix", "file": "arrays/b/gradients_gram/000000007.npz"},
        {"step": 1234567, "series": "b", "tag": "probe/curve", "kind": "curve", "file": "arrays/b/probe_curve/001234567.npz"},
    ]
    with np.load(run_dir / records[0]["file"]) as f:
        assert f["counts"].tolist() == [3, 1] and f["edges"].tolist() == [0.0, 0.5, 1.0]
    with np.load(run_dir / records[1]["file"]) as f:
        assert f["values"].tolist() == [[1.0, 0.5], [0.5, 1.0]] and f["labels"].tolist() == ["t0", "t1"]
    with np.load(run_dir / records[2]["file"]) as f:
        assert f["values"].tolist() == [[1.0, 0.0], [0.0, 1.0]] and f["labels"].tolist() == []
        assert f["labels"].dtype.kind == "U"  # labels are text, even when there are none
    with np.load(run_dir / records[3]["file"]) as f:
        assert f["x"].tolist() == [0, 1, 2] and f["y"].tolist() == [1.0, 0.5, 0.25]
    writer.close()


def run_of_two_tasks(writer, run_dir) -> None:
    writer.handle(started(run_dir))
    writer.handle(Scalars(10, "a", {"train/loss": 1.0, "task/final_loss": 0.5}, 1.0))
    writer.handle(Scalars(30, "a", {"train/loss": 0.75, "task/final_loss": 0.25}, 2.0))
    writer.handle(Scalars(20, "b", {"train/loss": 2.0}, 3.0))  # b lags a: the last step stays 30


def test_a_finished_run_leaves_its_summary_and_status(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    ranking = {"ranking": [{"combination": "none", "final_loss": 0.5}]}
    writer.handle(RunFinished(30, ranking))
    assert writer.ended
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "finished" and summary["scenario"] == "adam-tiny"
    assert 0 <= summary["wall_seconds"] < 60
    assert summary["series"]["a"] == {
        "last_step": 30,
        "final": {"train/loss": 0.75, "task/final_loss": 0.25},
        "per_task": {"task/final_loss": [0.5, 0.25]},
    }
    assert summary["series"]["b"]["final"] == {"train/loss": 2.0}
    assert summary["scenario_summary"] == ranking
    end = status(run_dir)
    assert end["state"] == "finished" and end["last_step"] == 30 and "error" not in end
    assert not (run_dir / "error.txt").exists()
    assert not list(run_dir.glob("*.tmp"))
    assert writer._metrics.closed and writer._arrays.closed and writer._log.closed  # nothing held open


def test_a_finished_run_without_its_own_summary_has_no_scenario_summary(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    writer.handle(RunFinished(30))
    assert "scenario_summary" not in json.loads((run_dir / "summary.json").read_text())


def test_a_failed_run_keeps_its_error_line_and_its_traceback(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    writer.handle(RunFailed(30, "ValueError: boom", details="Traceback (most recent call last):\nValueError: boom\n"))
    assert (run_dir / "error.txt").read_text() == "Traceback (most recent call last):\nValueError: boom\n"
    end = status(run_dir)
    assert end["state"] == "failed" and end["error"] == "ValueError: boom" and end["last_step"] == 30
    assert json.loads((run_dir / "summary.json").read_text())["state"] == "failed"


def test_a_failed_run_without_a_traceback_writes_no_error_file(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    writer.handle(RunFailed(30, "adam-tiny.toml: training.lr: the loss became nan"))
    assert not (run_dir / "error.txt").exists()
    assert status(run_dir)["error"] == "adam-tiny.toml: training.lr: the loss became nan"


def test_an_interrupted_run_says_so_without_an_error(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    writer.handle(RunInterrupted(30))
    end = status(run_dir)
    assert end["state"] == "interrupted" and end["last_step"] == 30 and "error" not in end
    assert json.loads((run_dir / "summary.json").read_text())["state"] == "interrupted"


def test_the_status_heartbeat_follows_the_last_step_once_a_period_has_passed(scenario, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    monkeypatch.setattr(writer_module, "STATUS_PERIOD_S", 3600.0)
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(Scalars(10, "a", {"train/loss": 1.0}, 1.0))
    assert status(run_dir)["last_step"] == 0  # within the period: no rewrite
    monkeypatch.setattr(writer_module, "STATUS_PERIOD_S", 0.0)
    writer.handle(Scalars(30, "a", {"train/loss": 1.0}, 2.0))
    writer.handle(Scalars(20, "b", {"train/loss": 1.0}, 3.0))
    assert status(run_dir)["state"] == "running" and status(run_dir)["last_step"] == 30
    writer.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux), which refuses every write as a full disk does")
def test_a_write_that_fails_ends_the_run_failed_naming_the_file(scenario, tmp_path):
    """/dev/full refuses every write with ENOSPC, like a full disk."""
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(Scalars(10, "a", {"train/loss": 1.0}, 1.0))
    writer._metrics.close()
    writer._metrics = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115 - the writer closes it
    with pytest.raises(WriteFailed) as failed:
        writer.handle(Scalars(20, "a", {"train/loss": 0.5}, 2.0))
    message = str(failed.value)
    assert message == "/dev/full: cannot write (No space left on device); the run stopped as failed, keeping what was written before"
    assert failed.value.exit_code == 1 and writer.failure is failed.value
    writer.handle(Log("info", "after the failure"))  # nothing more is written...
    assert (run_dir / "log.jsonl").read_text() == ""
    writer.handle(RunFinished(20))  # ...but the end, which is failed, whatever the run said
    end = status(run_dir)
    assert end["state"] == "failed" and end["error"] == message and end["last_step"] == 10
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "failed" and summary["series"]["a"]["last_step"] == 10
    # the value that never reached metrics.jsonl is not in the summary either
    assert summary["series"]["a"]["final"] == {"train/loss": 1.0}
    assert writer.ended


def test_write_failed_names_the_path_and_the_reason():
    error = WriteFailed.at(writer_module.Path("/runs/x/metrics.jsonl"), OSError(28, "No space left on device"))
    assert str(error) == "/runs/x/metrics.jsonl: cannot write (No space left on device); the run stopped as failed, keeping what was written before"
    bare = WriteFailed.at(writer_module.Path("/runs/x/status.json"), OSError("disk gone"))
    assert str(bare).startswith("/runs/x/status.json: cannot write (disk gone);")


def test_a_folder_whose_metrics_file_cannot_be_opened_fails_at_once_naming_it(scenario, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "metrics.jsonl").mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(WriteFailed) as failed:
        RunFolderWriter(run_dir, scenario, command=COMMAND)
    assert str(failed.value) == f"{run_dir / 'metrics.jsonl'}: cannot write (Is a directory); the run stopped as failed, keeping what was written before"


def test_a_small_file_that_cannot_be_replaced_fails_naming_it_and_leaves_no_temporary_copy(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    (run_dir / "meta.json" / "inside").mkdir(parents=True)  # os.replace cannot put a file there
    with pytest.raises(WriteFailed) as failed:
        writer.handle(started(run_dir))
    assert str(failed.value).startswith(f"{run_dir / 'meta.json'}: cannot write (")
    assert not (run_dir / "meta.json.tmp").exists()
    writer.close()


def test_a_summary_that_cannot_be_written_ends_the_run_failed_naming_it(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    run_of_two_tasks(writer, run_dir)
    (run_dir / "summary.json.tmp").mkdir()  # its temporary copy cannot be written (nor removed)
    writer.handle(RunFinished(30))
    expected = f"{run_dir / 'summary.json'}: cannot write (Is a directory); the run stopped as failed, keeping what was written before"
    assert str(writer.failure) == expected
    end = status(run_dir)
    assert end["state"] == "failed" and end["error"] == expected and end["last_step"] == 30
    assert not (run_dir / "summary.json").exists() and writer.ended


def test_an_array_that_fails_half_written_is_removed_and_named(scenario, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)

    def half_then_full(file, **arrays):  # the writer hands savez a file it opened inside the folder
        file.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")  # as a full disk does, without a file name

    monkeypatch.setattr(np, "savez_compressed", half_then_full)
    with pytest.raises(WriteFailed) as failed:
        writer.handle(Curve(5, "a", "probe/curve", np.array([0, 1]), np.array([1.0, 0.5])))
    npz = run_dir / "arrays" / "a" / "probe_curve" / "000000005.npz"
    assert str(failed.value) == f"{npz}: cannot write (No space left on device); the run stopped as failed, keeping what was written before"
    assert not npz.exists()  # a half-written .npz is junk
    assert (run_dir / "arrays.jsonl").read_text() == ""
    writer.close()


class FakeClock:
    """The writer's clock, moved by hand (wall times and the start stamp become exact)."""

    strftime = staticmethod(time.strftime)
    localtime = staticmethod(time.localtime)

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_the_start_stamp_and_the_wall_seconds_come_from_the_writers_clock(scenario, tmp_path, monkeypatch):
    start = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))  # 2026-01-02 03:04:05, local time
    clock = FakeClock(start)
    monkeypatch.setattr(writer_module, "time", clock)
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    assert writer.ended is False
    clock.now = start + 100.0  # the meta is written later, and still says when the run started
    writer.handle(started(run_dir))
    assert json.loads((run_dir / "meta.json").read_text())["started"].startswith("2026-01-02T03:04:05")
    clock.now = start + 12.34567
    writer.handle(RunInterrupted(0))
    assert json.loads((run_dir / "summary.json").read_text())["wall_seconds"] == 12.35


def test_a_task_boundary_before_the_series_are_known_writes_nothing(scenario, tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, scenario, command=COMMAND)
    writer.handle(TaskBoundary(0, 0))
    assert (run_dir / "metrics.jsonl").read_text() == ""
    writer.close()
