"""The classroom's read-only lab: viewers of one runs folder see the same live run, and cannot
start, pause, stop or rerun anything."""

from __future__ import annotations

import subprocess
import sys

from plastilab.tui.app import PlastilabApp
from plastilab.tui.messages import LaunchRequest
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.runs import RunsScreen
from tui.test_watch import WRITER
from tui.tui_helpers import run_async, wait_until


def start_writer(run_dir, scenario):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run_dir), str(scenario)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    return writer


def tell(writer, line: str) -> None:
    writer.stdin.write(line + "\n")
    writer.stdin.flush()
    assert writer.stdout.readline().strip() == "ok"


async def open_first_run(pilot, app) -> DashboardScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count == 1)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
    return app.screen


@run_async
async def test_two_viewers_follow_the_same_live_run(tmp_path, test_scenarios):
    runs = tmp_path / "runs"
    writer = start_writer(runs / "adam-tiny" / "20250101-000000-aaaaaa", test_scenarios / "adam-tiny.toml")
    try:
        first, second = PlastilabApp(runs_root=runs, read_only=True), PlastilabApp(runs_root=runs, read_only=True)
        async with first.run_test(size=(80, 24)) as pilot_a, second.run_test(size=(80, 24)) as pilot_b:
            screen_a, screen_b = await open_first_run(pilot_a, first), await open_first_run(pilot_b, second)
            state_a, state_b = screen_a.session.state, screen_b.session.state
            for pilot, state in ((pilot_a, state_a), (pilot_b, state_b)):
                await wait_until(pilot, lambda: state.step() == 20 and state.live)
            tell(writer, "more")  # the teacher's run goes on: both viewers see it
            for pilot, state in ((pilot_a, state_a), (pilot_b, state_b)):
                await wait_until(pilot, lambda: state.step() == 50)
            assert state_a.latest == state_b.latest and state_a.boundaries == state_b.boundaries == [20]
            await pilot_a.press("q")  # a viewer leaving stops nothing
            tell(writer, "end")
            await wait_until(pilot_b, lambda: state_b.state == "finished")
            await pilot_b.press("q")
    finally:
        writer.kill()
        writer.wait()


@run_async
async def test_a_viewer_cannot_start_pause_stop_or_rerun(tmp_path, test_scenarios):
    runs = tmp_path / "runs"
    writer = start_writer(runs / "adam-tiny" / "20250101-000000-bbbbbb", test_scenarios / "adam-tiny.toml")
    try:
        app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=runs, read_only=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
            runs_screen = app.screen
            assert not runs_screen.check_action("rerun", ()) and not runs_screen.check_action("back", ())
            await pilot.press("r", "ctrl+r", "b", "escape")  # rerun, launch, the live dashboard, back to a picker
            await pilot.pause(0.3)
            assert app.screen is runs_screen and app.live_session is None
            dashboard = await open_first_run(pilot, app)
            await wait_until(pilot, lambda: dashboard.session.state.step() == 20)
            for action in ("pause", "resume", "stop", "restart"):
                assert not dashboard.check_action(action, ())
            await pilot.press("p", "s", "r")
            await pilot.pause(0.3)
            state = dashboard.session.state
            assert state.state == "running" and app.live_session is None
            assert all(session.process is None for session in app.sessions.values())
            app.request_launch(LaunchRequest(test_scenarios / "adam-tiny.toml", [], "cpu"))  # asked in code, too
            await pilot.pause(0.3)
            assert app.live_session is None
            assert sorted(p.name for p in (runs / "adam-tiny").iterdir()) == ["20250101-000000-bbbbbb"]
            await pilot.press("q")
        assert writer.poll() is None  # the run goes on after the viewer left
    finally:
        writer.kill()
        writer.wait()
