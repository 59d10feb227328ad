"""The picker's form speaks the CLI's messages; the runs screen reopens, compares and filters."""

from __future__ import annotations

import shutil

import pytest

from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import load_scenario
from plastilab.tui.app import PlastilabApp
from plastilab.studies.scenario_form import check_form, discover
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.picker import PickerScreen
from plastilab.tui.screens.runs import RunsScreen
from plastilab.tui.widgets.parameter_form import ParameterForm
from tui.tui_helpers import run_async, settle, wait_until


@run_async
async def test_the_form_is_checked_inline_with_the_clis_message(test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("tab")  # the first Tab lands on the first field, visibly
        assert app.focused.id == "param-0"
        await pilot.press("down", "down")  # Up/Down move between fields
        assert app.focused.id == "param-2"  # training.lr
        app.focused.value = ""
        await pilot.press(*"-0.5")
        await pilot.pause()
        error = str(picker.query_one("#form-error").render())
        with pytest.raises(ScenarioError) as cli:
            load_scenario(picker.entry.path, ["training.lr=-0.5"])
        assert str(cli.value) in error.replace("\n", "")  # the very line `plastilab run --set` prints
        assert app.focused.has_class("-invalid")
        assert picker.query_one("#launch").disabled
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen is picker and app.live_session is None  # nothing was launched
        app.focused.value = "0.01"
        await pilot.pause()
        assert not picker.query_one("#launch").disabled
        assert not app.focused.has_class("-invalid")
        assert check_form(picker.entry, picker.query_one(ParameterForm).values(), "cpu").overrides == ["training.lr=0.01"]


def test_scenarios_from_several_folders_and_a_broken_file(test_scenarios, tmp_path):
    (tmp_path / "broken.toml").write_text('kind = "adam_instability"\nname = "broken"\n[training]\nlr = "fast"\n')
    shutil.copy(test_scenarios / "adam-tiny.toml", tmp_path / "again.toml")
    entries = discover([test_scenarios, tmp_path])
    names = [e.name for e in entries]
    assert names == ["adam-tiny", "adam-tiny", "broken"]
    broken = entries[-1]
    assert not broken.ok and "training.lr" in broken.error and "'fast'" in broken.error
    tiny = entries[0]
    assert tiny.estimated_cpu_seconds == 5
    assert dict(tiny.parameters)["training.steps_per_task"] == "150"


@run_async
async def test_runs_screen_reopens_compares_and_filters(test_scenarios, recorded_runs_root):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=recorded_runs_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        table = app.screen.query_one("#runs-table")
        assert table.row_count == 2
        await pilot.press("enter")  # reopen the newest run from its files
        await settle(pilot, app)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen) and not dashboard.session.is_live
        assert dashboard.session.state.state == "finished" and dashboard.session.state.step() == 450
        request = dashboard.session.relaunch_request()  # r would run its resolved scenario again
        assert load_scenario(request.scenario_path).config.name == "adam-tiny"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("space", "down", "space", "c")  # mark both runs, overlay them
        await settle(pilot, app)
        compare = app.screen
        state = compare.session.state
        assert state.series == ["A:adam-default", "A:adam-beta2-eps", "A:sgd", "B:adam-default", "B:adam-beta2-eps", "B:sgd"]
        # two series from the two runs: hide the rest
        await pilot.press("f")
        await pilot.pause()
        selection = app.screen.query_one("#series-list")
        selection.deselect_all()
        selection.select("A:sgd")
        selection.select("B:sgd")
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.screen is compare
        assert compare.hidden == set(state.series) - {"A:sgd", "B:sgd"}
        await pilot.press("q")
