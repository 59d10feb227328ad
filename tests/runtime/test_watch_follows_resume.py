"""A dashboard on an abandoned run follows its resume: the resume cuts the folder's files back to
the checkpoint and writes on, and the followed view starts over from the folder, ending with
exactly what the finished folder holds (no step twice from before the cut)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from plastilab.core.control import RunControl
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.state import read_state
from plastilab.runtime import launcher
from plastilab.runtime.resume import load_checkpoint
from plastilab.runtime.run_state import RunState
from plastilab.runtime.replay_sources import FolderSource
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from resume_helpers import StopAfter
from process_helpers import dead_pid

from paths import SCENARIOS
from tui.tui_helpers import run_async, wait_until

TINY = [
    "checkpoint_every=40",
    "data.n_images=64",
    "model.hidden=[16, 16]",
    "training.n_tasks=2",
    "training.steps_per_task=70",
    "training.log_every=10",
]
DEADLINE_S = 300  # generous: the suite runs on a busy machine; each wait ends when its condition holds


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def replayed(run_dir) -> RunState:
    state = RunState()
    source = FolderSource(run_dir)
    while not source.done:
        state.apply_all(source.poll(0))
    return state


def series_points(state: RunState) -> dict:
    """Each series' values as drawn, and how many were folded in (a step read twice counts twice)."""
    return {
        (series, tag): (history.count, [list(map(float, axis)) for axis in history.points()])
        for series, tags in state.scalars.items()
        for tag, history in tags.items()
    }


def abandoned_run(tmp_path):
    """A run stopped past its checkpoint whose status says running, its writer dead."""
    scenario = load_scenario(SCENARIOS / "adam-tiny.toml", TINY, seeds=1, device="cpu")
    control = RunControl()
    stopped = launcher.launch(scenario, tmp_path / "runs", consumers=[StopAfter(control, 100)], control=control)
    run_dir = stopped.run_dir
    assert load_checkpoint(run_dir)["files"][layout.METRICS] < (run_dir / layout.METRICS).stat().st_size  # lines past the checkpoint
    # The writer got further before it died: these lines are not the resume's, and must go.
    last = json.loads((run_dir / layout.METRICS).read_text().splitlines()[-1])
    with open(run_dir / layout.METRICS, "a", encoding="utf-8") as metrics:
        for step in (last["step"] + 1, last["step"] + 2):
            metrics.write(json.dumps({**last, "step": step, "value": 999.0}) + "\n")
    status = json.loads((run_dir / layout.STATUS).read_text())
    status.update(state="running", pid=dead_pid(), pid_start=None)  # its writer died without a word
    (run_dir / layout.STATUS).write_text(json.dumps(status))
    assert read_state(run_dir) == "abandoned"
    return run_dir


@pytest.mark.timeout(900)
def test_a_followed_abandoned_run_starts_over_with_its_resume(tmp_path):
    run_dir = abandoned_run(tmp_path)
    source = FolderSource(run_dir, follow=True, wait_for_resume=True)  # the dashboard's source
    state = RunState(live=True)
    lock = threading.Lock()
    stop = threading.Event()

    def reader() -> None:  # as the app's reader worker: poll in a thread, fold in what comes
        while not source.done and not stop.is_set():
            events = source.poll(0.05)
            with lock:
                state.apply_all(events)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        wait_for(lambda: state.state == "abandoned", "the dashboard to say abandoned")
        before = state.step()
        assert before >= 100 and not source.done  # it shows the lines past the checkpoint, and waits on
        resumed = launcher.resume(run_dir)
        assert resumed.state == "finished"
        wait_for(lambda: source.done, "the dashboard to see the resumed run end")
    finally:
        stop.set()
        thread.join(60)
    with lock:
        assert state.state == "finished"
        assert any("starts over" in line.message for line in state.logs)
        assert series_points(state) == series_points(replayed(run_dir))  # no step twice from before the cut
        assert state.step() == replayed(run_dir).step() == 140


@pytest.mark.timeout(900)
@run_async
async def test_the_watch_dashboard_follows_a_resume_of_its_abandoned_run(tmp_path):
    run_dir = abandoned_run(tmp_path)
    app = PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent)  # plastilab watch RUN_DIR
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.session.state.state == "abandoned")
        state = app.screen.session.state
        resumed = await asyncio.to_thread(launcher.resume, run_dir)  # the lab keeps drawing meanwhile
        assert resumed.state == "finished"
        await wait_until(pilot, lambda: state.state == "finished")
        assert app.screen.session.state is state
        assert series_points(state) == series_points(replayed(run_dir))
        await pilot.press("q")
