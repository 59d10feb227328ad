"""The dashboard's instrument panes and its `m` / `v` / `n` keys, checked on the values they show
(the snapshots check the pictures): which matrix the heat map holds, its scale, which curve and
histogram the probe and Hessian panes captioned, which metric `m` picks."""

from __future__ import annotations

import numpy as np
from textual.widgets import TabbedContent

from plastilab.tui.app import PlastilabApp
from plastilab.tui.panes import PANE_IDS
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.covariance_heatmap import CovarianceHeatmap
from plastilab.tui.widgets.hessian_density_pane import HessianDensityPane
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.plasticity_curve import PlasticityCurve
from tui.tui_helpers import run_async, settle


def written_covariances() -> dict[str, np.ndarray]:
    """The matrices `write_instrument_run` writes, rebuilt from its recipe."""
    rng = np.random.default_rng(0)
    out = {}
    for i, name in enumerate(("adam-default", "sgd")):
        a = rng.standard_normal((12, 12))
        out[name] = np.corrcoef(a + (1 + i) * a[:1])
    return out


@run_async
async def test_v_cycles_the_panes_and_each_shows_the_runs_latest_arrays(instrument_run):
    app = PlastilabApp(watch_dir=instrument_run, runs_root=instrument_run.parent.parent)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        tabs = screen.query_one(TabbedContent)
        seen = [tabs.active]
        for _ in PANE_IDS:
            await pilot.press("v")
            await pilot.pause()
            seen.append(tabs.active)
        assert seen == [*PANE_IDS, PANE_IDS[0]]

        state = screen.session.state
        probe = state.arrays["probe/curve"]["sgd"]  # the probe's loss curve as the pane holds it
        np.testing.assert_allclose(probe.y, 2.3 * np.exp(-np.arange(20) / 8))
        assert screen.query_one(PlasticityCurve).draw(state, PaneView()) == (
            "probe/curve at step 200: loss while fitting a fresh task"
        )
        density = state.arrays["hessian/density"]["adam-default"]
        edges = np.linspace(-1, 5, 31)
        np.testing.assert_allclose(density.counts, np.exp(-((edges[:-1] - 1) ** 2)) * 100 + 1)
        assert screen.query_one(HessianDensityPane).draw(state, PaneView(hidden=frozenset({"sgd"}))) == (
            "hessian/density at step 200 · log density, bulk · adam-default"
        )

        while tabs.active != "covariance":
            await pilot.press("v")
        await pilot.pause(0.3)
        heatmap = screen.query_one(CovarianceHeatmap)
        expected = written_covariances()
        assert heatmap.matrix.series == "adam-default" and heatmap.matrix.step == 200
        np.testing.assert_allclose(heatmap.matrix.values, expected["adam-default"])
        lines = [heatmap.render_line(y).text for y in range(heatmap.size.height)]
        legend = next(line for line in lines if "|max|" in line)
        assert "step 200 · 12×12 · |max| 1 ·" in legend  # a correlation matrix: its diagonal is 1
        await pilot.press("n")  # the next matrix: the other series'
        await pilot.pause(0.3)
        assert heatmap.matrix.series == "sgd"
        np.testing.assert_allclose(heatmap.matrix.values, expected["sgd"])
        await pilot.press("n")
        await pilot.pause(0.3)
        assert heatmap.matrix.series == "adam-default"


@run_async
async def test_m_steps_through_the_logged_metrics_in_order(instrument_run):
    app = PlastilabApp(watch_dir=instrument_run, runs_root=instrument_run.parent.parent)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert screen.session.state.tags() == ["train/loss", "units/dead_fraction"]
        first = screen.tag
        await pilot.press("m")
        await pilot.pause()
        second = screen.tag
        await pilot.press("m")
        await pilot.pause()
        assert {first, second} == {"train/loss", "units/dead_fraction"} and screen.tag == first
        # the values the curves are drawn from: the run's dead fraction, step by step
        steps, values = screen.session.state.scalars["sgd"]["units/dead_fraction"].points()
        assert list(steps[:3]) == [0, 10, 20]
        np.testing.assert_allclose(values[:3], [0.1, 0.125, 0.15])  # step / 400 + 0.1
