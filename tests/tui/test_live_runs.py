"""Runs launched from the lab: events reach the dashboard; stop, kill and quit leave no process."""

from __future__ import annotations

import json
import os
import signal

import pytest

from plastilab.core.device import resolve_device
from plastilab.core.errors import PlastilabError
from plastilab.tui.app import PlastilabApp
from plastilab.tui.messages import LaunchRequest
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.latest_values import LatestValues
from tui.tui_helpers import pid_gone, run_async, wait_until

LONG = ["training.steps_per_task=100000"]  # long enough to still be running when we act
# Generous, for a machine whose cores other processes keep busy: a spawned child imports torch
# before its first step (a minute or more under load), and a stop may end in the terminate grace
# of TrainingProcess.shutdown. Each wait ends as soon as its condition holds.
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 120
GONE_TIMEOUT_S = 60


@pytest.mark.timeout(900)
@run_async
async def test_launch_from_the_picker_stop_rerun_then_quit(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # the form: make the run long, through the same field a person would type in
        await pilot.press("tab", "tab")
        assert app.focused.id == "param-1"  # training.steps_per_task
        app.focused.value = ""
        await pilot.press(*"100000")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        first = app.screen.session
        await wait_until(pilot, lambda: first.state.step() >= 20, timeout=START_TIMEOUT_S)
        await wait_until(pilot, lambda: app.screen.query_one(LatestValues).row_count > 3)
        assert first.state.total_steps == 3 * 100000
        pid = first.process.pid
        await pilot.press("s")
        await wait_until(pilot, lambda: first.state.state == "interrupted", timeout=STOP_TIMEOUT_S)
        await wait_until(pilot, lambda: pid_gone(pid), timeout=GONE_TIMEOUT_S)
        assert status(first)["state"] == "interrupted"

        await pilot.press("r")  # the same scenario and form values, as a new run
        await wait_until(pilot, lambda: app.screen.session is not first)
        second = app.screen.session
        assert second.request == first.request
        await wait_until(pilot, lambda: second.state.step() >= 10, timeout=START_TIMEOUT_S)
        assert second.state.run_dir != first.state.run_dir
        await pilot.press("p")
        await pilot.pause(0.3)
        assert second.state.state == "paused" and second.process.paused
        await pilot.press("q")  # quitting with a (paused) run going
    assert pid_gone(pid) and pid_gone(second.process.pid)
    assert second.process.process.exitcode is not None
    assert status(second)["state"] == "interrupted"  # it stopped cleanly, files consistent


def status(session) -> dict:
    return json.loads(open(os.path.join(session.state.run_dir, "status.json")).read())


@pytest.mark.timeout(600)
@run_async
async def test_a_run_killed_from_outside_shows_as_failed_with_its_reason(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        session = app.launch(LaunchRequest(test_scenarios / "adam-tiny.toml", LONG, "cpu"))
        await wait_until(pilot, lambda: session.state.step() >= 20, timeout=START_TIMEOUT_S)
        os.kill(session.process.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: session.state.state == "failed", timeout=STOP_TIMEOUT_S)
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


@pytest.mark.timeout(600)
@run_async
async def test_a_device_that_is_not_there_fails_with_the_clis_message(test_scenarios, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: there is no absent device to ask for")
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        from plastilab.tui.widgets.parameter_form import ParameterForm

        offered = app.screen.query_one(ParameterForm).devices
        assert "cuda" not in offered and offered[:2] == ("auto", "cpu")  # the menu offers what is here
        app.request_launch(LaunchRequest(test_scenarios / "adam-tiny.toml", [], "cuda"))  # a rerun of a GPU run may ask
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        session = app.screen.session
        await wait_until(pilot, lambda: session.state.state == "failed", timeout=START_TIMEOUT_S)
        with pytest.raises(PlastilabError) as cli:  # what `plastilab run --device cuda` says
            resolve_device("cuda", str(app.screen.session.request.scenario_path))
        assert session.state.error == str(cli.value)
        assert not (tmp_path / "runs").exists()  # bad input leaves no half-made run folder
        await wait_until(pilot, lambda: pid_gone(session.process.pid), timeout=GONE_TIMEOUT_S)
        await pilot.press("q")
