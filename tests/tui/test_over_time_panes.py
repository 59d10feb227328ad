"""The probe and Hessian panes over checkpoints (`t`), checked on the values they show: one strip
row per kept checkpoint in step order on the bulk's range, one probe curve per picked checkpoint
with the run folder's numbers and its spread across targets; `n` steps through the series."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import TabbedContent

from plastilab.core.events import Histogram
from plastilab.rundir.reader import RunFolder
from plastilab.runtime.array_history import ArrayHistory
from plastilab.runtime.run_state import RunState
from plastilab.tui.app import PlastilabApp
from plastilab.tui.widgets.density_strip import SHADES, density_strip, even_pick
from plastilab.tui.widgets.hessian_density_pane import HessianDensityPane
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.plasticity_curve import PlasticityCurve
from tui.conftest import CHECKPOINT_STEPS, checkpoint_density, checkpoint_target_curves
from tui.tui_helpers import run_async, settle, wait_until


def bulk_centres(step: int, i: int) -> np.ndarray:
    """The centres of the equal-width bins of ``checkpoint_density`` (its last bin is the outliers')."""
    _, edges = checkpoint_density(step, i)
    return (edges[:-2] + edges[1:-1]) / 2


def test_even_pick_keeps_the_first_and_the_last_in_order():
    assert even_pick(3, 5) == [0, 1, 2]
    assert even_pick(7, 5) == [0, 2, 3, 4, 6]
    picked = even_pick(100, 7)
    assert picked[0] == 0 and picked[-1] == 99 and picked == sorted(set(picked)) and len(picked) == 7


def test_array_history_keeps_checkpoints_in_step_order_and_thins_evenly():
    history = ArrayHistory(capacity=8)
    edges = np.linspace(0, 1, 3)
    for step in [30, 10, 20, *range(40, 200, 10)]:  # out of order at first, then 16 more
        history.add(Histogram(step, "a", "hessian/density", np.ones(2), edges))
    history.add(Histogram(5, "a", "gradients/other", np.ones(2), edges))  # not a kept tag
    steps = [e.step for e in history.of("hessian/density", "a")]
    assert steps == sorted(steps) and len(steps) <= 8
    assert steps[0] == 10 and steps[-1] == 190  # the first and the latest always stay
    assert history.of("gradients/other", "a") == []
    again = Histogram(190, "a", "hessian/density", 2 * np.ones(2), edges)  # a checkpoint replayed
    history.add(again)
    assert history.of("hessian/density", "a")[-1] is again and len(history.of("hessian/density", "a")) == len(steps)


def test_the_density_strip_has_a_row_per_checkpoint_on_the_bulks_range(checkpoint_run):
    state = RunState()
    state.apply_all(RunFolder.open(checkpoint_run).events())  # what `plastilab watch` rebuilds
    events = state.array_history.of("hessian/density", "sgd")
    assert [e.step for e in events] == list(CHECKPOINT_STEPS)
    strip = density_strip(events, columns=50, rows=20)
    assert strip.steps == list(CHECKPOINT_STEPS) and strip.log_density.shape == (7, 50)
    centres = {step: bulk_centres(step, 1) for step in CHECKPOINT_STEPS}
    assert strip.low == pytest.approx(min(c[0] for c in centres.values()))
    assert strip.high == pytest.approx(max(c[-1] for c in centres.values()))
    # each row: its own density on the common grid, blank outside its own bulk
    grid = np.linspace(strip.low, strip.high, 50)
    for row, step in enumerate(CHECKPOINT_STEPS):
        counts, edges = checkpoint_density(step, 1)
        widths = np.diff(edges)[:-1]
        inside = (grid >= centres[step][0] - 1e-9) & (grid <= centres[step][-1] + 1e-9)
        expected = np.log10(np.interp(grid[inside], centres[step], counts[:-1] / widths))
        np.testing.assert_allclose(strip.log_density[row, inside], expected, rtol=1e-9)
        assert np.isnan(strip.log_density[row, ~inside]).all()
        assert strip.outside[row] == (0.0, pytest.approx(2.0 / counts.sum()))  # the outer bin's mass
        assert strip.reach[row] == (pytest.approx(edges[0]), pytest.approx(edges[-1]))
    # fewer rows than checkpoints: an even pick, first and latest in, still in step order
    short = density_strip(events, columns=50, rows=4)
    assert short.steps == [0, 100, 200, 300] and short.total == 7


@run_async
async def test_t_shows_the_hessian_density_by_step_and_n_the_next_series(checkpoint_run):
    app = PlastilabApp(watch_dir=checkpoint_run, runs_root=checkpoint_run.parent.parent)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert not screen.check_action("over_time", ())  # the values pane: no such key
        screen.query_one(TabbedContent).active = "hessian"
        await pilot.pause()
        assert screen.check_action("over_time", ()) and not screen.check_action("next_series", ())
        await pilot.press("t")
        pane = screen.query_one(HessianDensityPane)
        await wait_until(pilot, lambda: pane.strip is not None and pane.strip.series == "adam-default")
        assert pane.strip.steps == list(CHECKPOINT_STEPS)  # 40 rows: every checkpoint
        lines = [pane.render_line(y).text for y in range(pane.size.height)]
        assert lines[0].startswith("hessian/density by step · adam-default · 7 checkpoints")
        rows = [line for line in lines if "│" in line and line.split("│")[0].strip()]
        assert [row.split("│")[0].strip() for row in rows] == ["0", "50", "100", "150", "200", "250", "300"]
        assert all(set(row.split("│")[1]) <= set(SHADES + " ") for row in rows)
        assert all("▸" in row.split("│")[2] for row in rows)  # every checkpoint has an outlier bin
        assert screen.check_action("next_series", ())
        await pilot.press("n")
        await wait_until(pilot, lambda: pane.strip is not None and pane.strip.series == "sgd")
        await pilot.press("t")  # back to the latest density of every series
        await wait_until(pilot, lambda: pane.lines is None and pane.placeholder is None)
        caption = pane.draw(screen.session.state, PaneView())
        assert caption.startswith("hessian/density at step 300") and "outliers:" in caption


@run_async
async def test_t_overlays_the_probe_curves_of_successive_checkpoints_with_their_spread(checkpoint_run):
    app = PlastilabApp(watch_dir=checkpoint_run, runs_root=checkpoint_run.parent.parent)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        screen.query_one(TabbedContent).active = "plasticity"
        await pilot.pause()
        await pilot.press("t")
        pane = screen.query_one(PlasticityCurve)
        await wait_until(pilot, lambda: len(pane.overlay) == 5)
        assert [c.step for c in pane.overlay] == [0, 100, 150, 200, 300]  # 5 of 7, first and latest in
        for checkpoint in pane.overlay:
            targets = checkpoint_target_curves(checkpoint.step, 0)  # adam-default
            np.testing.assert_allclose(checkpoint.mean, targets.mean(axis=0))
            np.testing.assert_allclose(checkpoint.low, targets.min(axis=0))
            np.testing.assert_allclose(checkpoint.high, targets.max(axis=0))
            assert checkpoint.final_sd == pytest.approx(targets[:, -1].std())
        # what §3.3 reads: later checkpoints fit slower and spread wider across targets
        finals = [c.final for c in pane.overlay]
        spreads = [c.final_sd for c in pane.overlay]
        assert finals == sorted(finals) and spreads == sorted(spreads) and spreads[-1] > 0
        key = pane.key_line.plain
        assert key.startswith("final loss") and key.count("━") == 5 and "300: " in key
        await pilot.press("n")
        await wait_until(pilot, lambda: "of sgd" in pane.draw(screen.session.state, screen.view()))


@run_async
async def test_a_short_probe_pane_draws_one_sparkline_per_checkpoint(checkpoint_run):
    app = PlastilabApp(watch_dir=checkpoint_run, runs_root=checkpoint_run.parent.parent)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        screen.query_one(TabbedContent).active = "plasticity"
        await pilot.pause()
        await pilot.press("t")
        pane = screen.query_one(PlasticityCurve)
        await wait_until(pilot, lambda: len(pane.overlay) == 5 and pane.size.height > 0)
        await pilot.pause(0.3)
        lines = [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]
        assert lines[0].startswith("probe/curve · adam-default · 5 of 7 checkpoints")
        rows = [line for line in lines[1:] if "│" in line]
        assert [row.split("│")[0].strip() for row in rows] == ["0", "100", "150", "200", "300"]
        for row, checkpoint in zip(rows, pane.overlay):
            final = row.split("│")[2].strip()
            assert final.startswith(f"{checkpoint.final:.3g} ±{checkpoint.final_sd:.2g}")


def test_the_lab_page_names_every_dashboard_key():
    from pathlib import Path

    from textual.binding import Binding

    from plastilab.tui.screens.dashboard import DashboardScreen

    page = (Path(__file__).resolve().parents[2] / "docs" / "lab.md").read_text(encoding="utf-8")
    dashboard = page[page.index("- **Dashboard**") :]
    dashboard = dashboard[: dashboard.index("- **Comparison**")]
    shown = {"escape": "esc"}
    keys = {shown.get(b.key, b.key_display or b.key) for b in DashboardScreen.BINDINGS if isinstance(b, Binding) and b.description}
    assert keys >= {"t", "n", "/", "?", "M"}
    assert [key for key in sorted(keys) if f"`{key}`" not in dashboard] == []
