"""One word for a run's state: status.json plus its writer's pid (and start time) decide it, and
``plastilab report``, ``plastilab watch`` and the runs list all say the same word."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from plastilab.core.events import RunFailed, RunFinished, RunInterrupted, RunStarted, Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.headless.report import print_report
from plastilab.rundir import layout
from plastilab.studies.listing import read_run
from plastilab.rundir.state import (
    END_STATES,
    process_start_time,
    read_state,
    record_end_for_dead_writer,
    state_of,
    write_running,
)
from plastilab.rundir.writer import RunFolderWriter
from plastilab.runtime.run_state import RunState
from plastilab.runtime.replay_sources import FolderSource
from process_helpers import dead_pid

ON_LINUX = sys.platform.startswith("linux")


def write_status(run_dir: Path, **status) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / layout.STATUS).write_text(json.dumps(status), encoding="utf-8")


def test_end_events_map_to_the_end_states():
    assert END_STATES == ("finished", "failed", "interrupted")
    assert [state_of(e) for e in (RunFinished(3), RunFailed(3, "x"), RunInterrupted(3))] == list(END_STATES)
    with pytest.raises(ValueError):
        state_of(Scalars(0, "a", {}, 0.0))


def test_the_writer_records_its_pid_and_start_time(tmp_path):
    write_running(tmp_path, 7)
    status = json.loads((tmp_path / layout.STATUS).read_text())
    assert status["state"] == "running" and status["last_step"] == 7 and status["pid"] == os.getpid()
    if ON_LINUX:
        assert status["pid_start"] == process_start_time(os.getpid())
    assert read_state(tmp_path) == "running"
    assert not (tmp_path / (layout.STATUS + ".tmp")).exists()


def test_a_dead_writer_makes_a_running_folder_abandoned(tmp_path):
    write_status(tmp_path, state="running", last_step=3, pid=dead_pid())
    assert read_state(tmp_path) == "abandoned"
    write_status(tmp_path, state="running", last_step=3)  # no pid at all
    assert read_state(tmp_path) == "abandoned"


@pytest.mark.skipif(not ON_LINUX, reason="process start times come from /proc")
def test_a_reused_pid_does_not_keep_a_dead_run_alive(tmp_path):
    # A live pid (ours) with another start time: the process that wrote the run is gone and
    # the pid now belongs to someone else.
    write_status(tmp_path, state="running", last_step=3, pid=os.getpid(), pid_start=process_start_time(os.getpid()) - 1)
    assert read_state(tmp_path) == "abandoned"
    write_status(tmp_path, state="running", last_step=3, pid=os.getpid())  # no start time recorded: the pid must do
    assert read_state(tmp_path) == "running"


def test_unreadable_status_is_unknown_and_ends_are_kept(tmp_path):
    assert read_state(tmp_path) == "unknown"
    (tmp_path / layout.STATUS).write_text("{not json")
    assert read_state(tmp_path) == "unknown"
    write_status(tmp_path, state="finished", last_step=9, pid=dead_pid())
    assert read_state(tmp_path) == "finished"
    record_end_for_dead_writer(tmp_path, "failed", "killed", 9)
    assert read_state(tmp_path) == "finished"


def test_report_runs_list_and_watch_say_the_same_word_for_a_dead_run(tmp_path):
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-dead00"
    scenario = load_scenario(Path(__file__).parents[1] / "tui" / "data" / "scenarios" / "adam-tiny.toml")
    writer = RunFolderWriter(run_dir, scenario, command=["test"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", ("sgd",), 100, "cpu", 0, str(run_dir)))
    writer.handle(Scalars(10, "sgd", {"train/loss": 1.0}, 1000.0))
    writer.close()  # the process "dies" here: status.json still says running
    status = json.loads((run_dir / layout.STATUS).read_text())
    write_status(run_dir, **{**status, "pid": dead_pid(), "pid_start": None})

    assert read_state(run_dir) == "abandoned"
    assert read_run(run_dir).state == "abandoned"  # the runs list
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    print_report(run_dir, console)
    assert "(abandoned)" in "".join(console.file.getvalue().split())  # plastilab report (a narrow title wraps)
    source = FolderSource(run_dir, follow=True)  # plastilab watch
    state = RunState(live=True)
    for _ in range(50):
        state.apply_all(source.poll(0.01))
        if source.done:
            break
    assert source.done and state.state == "abandoned" and state.ended
    assert "is gone" in (state.error or "")


@pytest.mark.timeout(600)
def test_report_runs_list_and_watch_agree_on_a_sigkilled_plastilab_run(tmp_path):
    # A real `plastilab run`, killed with no chance to say so: its status.json stays "running".
    tiny = Path(__file__).resolve().parents[2] / "scenarios" / "adam-tiny.toml"
    cmd = [sys.executable, "-m", "plastilab", "run", str(tiny), "--out", str(tmp_path), "--quiet", "--set", "training.steps_per_task=100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        run_dir = None
        deadline = time.monotonic() + 240  # torch's import takes a minute or more on a busy machine
        while run_dir is None and time.monotonic() < deadline and proc.poll() is None:
            for status_file in tmp_path.glob("*/*/" + layout.STATUS):
                try:
                    status = json.loads(status_file.read_text())
                except ValueError:
                    continue
                if status.get("state") == "running" and status.get("last_step", 0) > 0:
                    run_dir = status_file.parent
            time.sleep(0.2)
        assert run_dir is not None, f"the run never reported a step (exit code {proc.poll()})"
        assert read_state(run_dir) == "running" and read_run(run_dir).state == "running"
        proc.kill()  # SIGKILL
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -9
    assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "running"  # nobody said otherwise

    assert read_state(run_dir) == "abandoned"
    assert read_run(run_dir).state == "abandoned"  # the runs list
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    print_report(run_dir, console)  # plastilab report
    assert "(abandoned)" in "".join(console.file.getvalue().split())
    source = FolderSource(run_dir, follow=True)  # plastilab watch
    state = RunState(live=True)
    deadline = time.monotonic() + 120
    while not source.done and time.monotonic() < deadline:
        state.apply_all(source.poll(0.05))
    assert source.done and state.state == "abandoned" and state.ended
