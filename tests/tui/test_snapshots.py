"""Snapshots of the lab drawn from run folders shipped with the tests (no training involved).

Update after an intended change of the layout:  .venv/bin/pytest tests/tui --snapshot-update
"""

from __future__ import annotations

from plastilab.tui.app import PlastilabApp
from tui.conftest import ATARI_RUN, BLOCK_MDP_RUN, INTERVENTIONS_RUN
from tui.tui_helpers import run_async, settle


def dashboard_app(run_dir, theme="textual-dark") -> PlastilabApp:
    return PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent, theme=theme)


def settled_after(app, *keys: str):
    """The dashboard drawn, ``keys`` pressed, their animations done and the result drawn."""

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press(*keys)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.5)
        await settle(pilot, app)

    return ready


def test_dashboard_of_a_recorded_run(snap_compare, recorded_run):
    app = dashboard_app(recorded_run)

    async def ready(pilot):
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_block_mdp_dashboard_at_80x24(snap_compare):
    """Opens on the TD loss; the values table starts with the return, TD loss and plasticity."""
    app = dashboard_app(BLOCK_MDP_RUN)

    async def ready(pilot):
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_interventions_dashboard_at_80x24(snap_compare):
    """Six series: shortened by one rule in the values table, every one of them on screen."""
    app = dashboard_app(INTERVENTIONS_RUN)

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

    # The pane is drawn once when its tab opens and again at its laid-out size: wait for both.
    assert snap_compare(app, terminal_size=(120, 40), run_before=settled_after(app, "v", "v", "v"))


def test_hessian_pane_at_80x24(snap_compare, instrument_run):
    """Three plot rows: three y labels, one a row (five once fought over the top row)."""
    app = dashboard_app(instrument_run)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settled_after(app, "v", "v", "v"))


def test_atari_dashboard_at_80x24(snap_compare):
    """Opens on the TD loss (no episode has ended yet); the evaluation score heads the values."""
    app = dashboard_app(ATARI_RUN)

    async def ready(pilot):
        await settle(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_atari_hessian_density_by_step_at_80x24(snap_compare):
    """`t` on the Hessian pane: one row a checkpoint, the outliers' share at the right."""
    app = dashboard_app(ATARI_RUN)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settled_after(app, "v", "v", "v", "t"))


def test_atari_probe_curves_over_checkpoints_at_80x24(snap_compare):
    """`t` on the probe pane, too short for a chart: a sparkline and the spread a checkpoint."""
    app = dashboard_app(ATARI_RUN)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settled_after(app, "v", "v", "t"))


def test_probe_curves_over_checkpoints_chart(snap_compare, checkpoint_run):
    """`t` on a tall probe pane: the curves overlaid early to late, the targets' spread faint."""
    app = dashboard_app(checkpoint_run)

    assert snap_compare(app, terminal_size=(100, 40), run_before=settled_after(app, "v", "v", "t"))


def test_picker(snap_compare, test_scenarios, tmp_path):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=tmp_path)
    assert snap_compare(app, terminal_size=(80, 24))


def test_runs_screen(snap_compare, test_scenarios, recorded_runs_root):
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=recorded_runs_root)
    assert snap_compare(app, press=["o", "_"], terminal_size=(80, 24))


@run_async
async def test_a_chart_mounted_as_the_theme_changes_draws_in_the_new_theme():
    """The cause of the light-theme snapshot that differed on Python 3.12+: a chart mounted after
    the app's theme was set but before the app refreshed its CSS took the old theme's colours for
    its plotext theme, for good (which comes first depends on the asyncio of the Python version).
    Here the chart mounts inside the handler that sets the theme, before any refresh."""
    from plotext._dict import themes as plotext_themes
    from textual.app import App
    from textual.color import Color

    from plastilab.tui.widgets.chart import Chart

    class ThemeThenChart(App):
        async def on_mount(self) -> None:
            self.theme = "textual-light"  # was textual-dark: its CSS variables are still in place
            await self.mount(Chart())

    app = ThemeThenChart()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        light_surface = Color.parse(app.get_css_variables()["surface"]).rgb
    canvas, axes, ticks = plotext_themes["textual-auto-textual-light"][:3]
    assert canvas == axes == light_surface
    assert ticks != light_surface
