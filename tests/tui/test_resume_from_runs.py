"""The runs screen resumes an interrupted run that has a checkpoint: the run continues in its own
folder, live in the dashboard, drawn from its first step; a run without one is told why."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from plastilab.core.control import RunControl
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.state import read_state
from plastilab.runtime import launcher
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.runs import RunsScreen
from resume_helpers import StopAfter
from tui.tui_helpers import run_async, settle, wait_until

SMALL = ["data.n_images=64", "model.hidden=[16, 16]", "training.n_tasks=2", "training.steps_per_task=60"]
START_TIMEOUT_S = 300  # the training child imports torch before its first step


def stopped_run(root, scenario_file, extra):
    control = RunControl()
    scenario = load_scenario(scenario_file, [*SMALL, *extra])
    return launcher.launch(scenario, root, consumers=[StopAfter(control, 50)], control=control).run_dir


def details(app) -> str:
    """The run-details panel as plain text."""
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#run-details").content)
    return console.export_text()


@pytest.mark.timeout(900)
@run_async
async def test_resume_an_interrupted_run_from_the_runs_screen(test_scenarios, tmp_path):
    root = tmp_path / "runs"
    run_dir = stopped_run(root, test_scenarios / "adam-tiny.toml", ["checkpoint_every=40"])
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=root)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert "u" in app.screen.active_bindings and app.screen.active_bindings["u"].binding.description == "Resume"  # in the footer
        await wait_until(pilot, lambda: "u continues it from its last checkpoint" in details(app))
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        session = app.screen.session
        assert session.is_live
        await wait_until(pilot, lambda: session.state.ended, timeout=START_TIMEOUT_S)
        await settle(pilot, app)
        assert session.state.state == "finished" and session.state.run_dir == str(run_dir)
        assert read_state(run_dir) == "finished"
        # The dashboard has the whole run: the steps before the checkpoint came from the folder.
        assert session.state.scalars["adam-default"]["train/loss"].count == 120 // 10
        await pilot.press("q")


@pytest.mark.timeout(600)
@run_async
async def test_a_run_without_a_checkpoint_is_told_why(test_scenarios, tmp_path):
    root = tmp_path / "runs"
    stopped_run(root, test_scenarios / "adam-tiny.toml", [])
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=root)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert "u continues" not in details(app)
        await pilot.press("u")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunsScreen)  # nothing started
        notes = [n.message for n in app._notifications]
        assert any("no checkpoint: set checkpoint_every" in n for n in notes), notes
