"""Snapshots of the lab drawn from run folders shipped with the tests (no training involved).

Update after an intended change of the layout:  .venv/bin/pytest tests/tui --snapshot-update
"""

from __future__ import annotations

from plastilab.tui.app import PlastilabApp
from tui.tui_helpers import settle


def dashboard_app(run_dir, theme="textual-dark") -> PlastilabApp:
    return PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent, theme=theme)


def test_dashboard_of_a_recorded_run(snap_compare, recorded_run):
    app = dashboard_app(recorded_run)

    async def ready(pilot):
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_dashboard_light_theme_log_scale(snap_compare, recorded_run):
    app = dashboard_app(recorded_run, theme="textual-light")

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press("l")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_dashboard_grows_with_the_terminal(snap_compare, recorded_run):
    app = dashboard_app(recorded_run)

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press("m")  # the next metric after train/loss
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(132, 40), run_before=ready)


def test_instrument_panes_fill_when_their_events_arrive(snap_compare, instrument_run):
    app = dashboard_app(instrument_run)

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press("v", "v", "v", "v")  # values -> log -> plasticity -> hessian -> covariance
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(100, 36), run_before=ready)


def test_hessian_pane(snap_compare, instrument_run):
    app = dashboard_app(instrument_run)

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press("v", "v", "v")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_picker(snap_compare, test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path)
    assert snap_compare(app, terminal_size=(80, 24))


def test_runs_screen(snap_compare, test_scenarios, recorded_runs_root):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=recorded_runs_root)
    assert snap_compare(app, press=["o", "_"], terminal_size=(80, 24))
