"""A launch starts exactly what is on screen, and never stops a live run without asking."""

from __future__ import annotations

import tomllib

import pytest

from plastilab.tui.app import PlastilabApp
from plastilab.tui.messages import LaunchRequest
from plastilab.tui.screens.confirm import ConfirmScreen
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.picker import PickerScreen
from tui.tui_helpers import pid_gone, run_async, wait_until

START_TIMEOUT_S = 180  # a spawned child imports torch before it writes its run folder


def two_scenarios(test_scenarios, folder):
    """Two small files whose main parameters all differ: a form mixed up between them shows."""
    text = (test_scenarios / "adam-tiny.toml").read_text()
    folder.mkdir()
    (folder / "a-first.toml").write_text(text.replace('name = "adam-tiny"', 'name = "a-first"'))
    second = text.replace('name = "adam-tiny"', 'name = "b-second"').replace("n_tasks = 3", "n_tasks = 2")
    (folder / "b-second.toml").write_text(second.replace("steps_per_task = 150", "steps_per_task = 40"))
    return folder


@pytest.mark.timeout(600)
@run_async
async def test_down_and_enter_at_once_start_the_new_highlight_with_its_own_values(test_scenarios, tmp_path):
    scenarios = two_scenarios(test_scenarios, tmp_path / "scenarios")
    app = PlastilabApp(scenarios_dirs=[scenarios], runs_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen) and app.screen.entry.name == "a-first"
        await pilot.press("down", "enter")  # one burst: the highlight moves and Enter follows at once
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        session = app.screen.session
        assert session.request.overrides == []  # b-second's form shows b-second's own values
        await wait_until(pilot, lambda: session.state.run_dir is not None, timeout=START_TIMEOUT_S)
        resolved = tomllib.loads(open(f"{session.state.run_dir}/scenario.toml").read())
        assert resolved["name"] == "b-second"
        assert resolved["training"]["n_tasks"] == 2 and resolved["training"]["steps_per_task"] == 40
        await pilot.press("q")
    assert pid_gone(session.process.pid)


@pytest.mark.timeout(600)
@run_async
async def test_starting_a_run_while_one_is_live_asks_first(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path / "runs")
    long = ["training.steps_per_task=100000"]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = app.launch(LaunchRequest(test_scenarios / "adam-tiny.toml", long, "cpu"))
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("escape")  # back to the picker, the run going on
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # keep it
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert app.live_session is first and not first.process.stop_requested
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # stop it and start the new one
        await wait_until(pilot, lambda: app.live_session is not first)
        assert first.process.stop_requested
        await pilot.press("q")
    assert pid_gone(first.process.pid) and pid_gone(app.live_session.process.pid)
