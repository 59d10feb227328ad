"""Runs launched from the lab: events reach the dashboard; stop, kill and quit leave no process."""

from __future__ import annotations

import json
import os
import signal

from plastilab.tui.app import PlastilabApp
from plastilab.tui.messages import LaunchRequest
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.latest_values import LatestValues
from tui_helpers import pid_gone, run_async, wait_until

LONG = ["training.steps_per_task=100000"]  # long enough to still be running when we act


@run_async
async def test_launch_from_the_picker_see_events_then_stop(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # the form: make the run long, through the same field a person would type in
        await pilot.press("tab", "tab", "tab")
        assert app.focused.id == "param-1"  # training.steps_per_task
        app.focused.value = ""
        await pilot.press(*"100000")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        session = app.screen.session
        await wait_until(pilot, lambda: session.state.step() >= 20, timeout=60)
        await wait_until(pilot, lambda: app.screen.query_one(LatestValues).row_count > 3)
        assert session.state.total_steps == 3 * 100000
        pid = session.process.pid
        await pilot.press("s")
        await wait_until(pilot, lambda: session.state.state == "interrupted", timeout=30)
        await wait_until(pilot, lambda: pid_gone(pid), timeout=15)
        run_dir = session.state.run_dir
        assert json.loads(open(os.path.join(run_dir, "status.json")).read())["state"] == "interrupted"
        await pilot.press("q")
    assert pid_gone(pid)


@run_async
async def test_a_run_killed_from_outside_shows_as_failed_with_its_reason(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        session = app.launch(LaunchRequest(test_scenarios / "adam-tiny.toml", LONG, "cpu"))
        await wait_until(pilot, lambda: session.state.step() >= 20, timeout=60)
        os.kill(session.process.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: session.state.state == "failed", timeout=15)
        assert "killed by SIGKILL" in session.state.error
        status = json.loads(open(os.path.join(session.state.run_dir, "status.json")).read())
        assert status["state"] == "failed" and "SIGKILL" in status["error"]
        # the app is still up, the dashboard says why, and its keys still work
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_until(pilot, lambda: screen._drawn_version == session.state.version)
        assert "SIGKILL" in screen.query_one("#status").plain
        await pilot.press("l")
        await pilot.pause(0.2)
        assert screen.log_y
        assert not screen.check_action("stop", ())
        await pilot.press("q")
    assert pid_gone(session.process.pid)


@run_async
async def test_quitting_with_a_run_going_leaves_no_process(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        session = app.launch(LaunchRequest(test_scenarios / "adam-tiny.toml", LONG, "cpu"))
        await wait_until(pilot, lambda: session.state.step() >= 10, timeout=60)
        pid = session.process.pid
        await pilot.press("p")
        await pilot.pause(0.3)
        assert session.state.state == "paused" and session.process.paused
        await pilot.press("q")
    assert session.process.process.exitcode is not None
    assert pid_gone(pid)
    status = json.loads(open(os.path.join(session.state.run_dir, "status.json")).read())
    assert status["state"] == "interrupted"  # it stopped cleanly, files consistent
