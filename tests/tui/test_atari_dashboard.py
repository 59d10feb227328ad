"""The lab shows an Atari run: its dashboard opens on the kind's metric and draws the curves."""

from __future__ import annotations

from plastilab.core.presentation import presentation_for
from plastilab.core.scenario_file import load_scenario
from plastilab.runtime.launcher import launch
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.learning_curves import LearningCurves
from tui.tui_helpers import run_async, wait_until

from paths import SCENARIOS


@run_async
async def test_the_dashboard_draws_an_atari_run(tmp_path):
    overrides = ["device=cpu", "training.total_steps=100", "instruments.hessian.every=0", "instruments.covariance.every=100"]
    launched = launch(load_scenario(SCENARIOS / "atari-tiny.toml", overrides), tmp_path / "runs")
    assert launched.state == "finished"
    app = PlastilabApp(watch_dir=launched.run_dir, runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.session.state.state == "finished")
        await wait_until(pilot, lambda: screen._drawn_version == screen.session.state.version and not screen._view_changed)
        state = screen.session.state
        assert state.series == ["dqn"] and presentation_for("atari").progress_tags[0] in state.latest["dqn"]
        assert {"eval/return", "eval/human_normalized", "probe/final_loss"} <= set(state.latest["dqn"])
        assert screen.query_one(LearningCurves).placeholder is None  # drawn, not waiting
        assert "dqn" in state.arrays["gradients/covariance"]
        await pilot.press("q")
