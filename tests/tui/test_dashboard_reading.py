"""What a student reads at 80x24: the metric chooser, the help's "what to watch for", names that
fit, a failed run's reason (drawn from recorded run folders; no training)."""

from __future__ import annotations

import json

from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.help import HelpScreen
from plastilab.tui.screens.metric_chooser import MetricChooserScreen, matching
from plastilab.tui.series_names import abbreviate, short_names
from plastilab.tui.widgets.latest_values import LatestValues
from tui.conftest import BLOCK_MDP_RUN, INTERVENTIONS_RUN
from tui.tui_helpers import run_async, settle, wait_until


def viewer(run_dir) -> PlastilabApp:
    return PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent)


@run_async
async def test_the_metric_chooser_finds_a_tag_in_a_few_keys_and_M_goes_back():
    app = viewer(BLOCK_MDP_RUN)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        dashboard = app.screen
        assert dashboard.tag == "td/loss"  # the kind's main loss, from its presenter
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, MetricChooserScreen))
        await pilot.press(*"top eig", "enter")
        await wait_until(pilot, lambda: app.screen is dashboard)
        assert dashboard.tag == "hessian/top_eigenvalue"
        tags = dashboard.session.state.tags()
        await pilot.press("M")
        assert dashboard.tag == tags[tags.index("hessian/top_eigenvalue") - 1]
        await pilot.press("m")
        assert dashboard.tag == "hessian/top_eigenvalue"
        await pilot.press("slash", "escape")  # Esc keeps the metric
        await wait_until(pilot, lambda: app.screen is dashboard)
        assert dashboard.tag == "hessian/top_eigenvalue"


def test_the_chooser_matches_every_word():
    tags = ["td/loss", "probe/plasticity_loss", "probe/final_loss", "units/dead_fraction"]
    assert matching(tags, "probe loss") == ["probe/plasticity_loss", "probe/final_loss"]
    assert matching(tags, "DEAD") == ["units/dead_fraction"]
    assert matching(tags, "") == tags


@run_async
async def test_help_says_what_to_watch_for():
    app = viewer(BLOCK_MDP_RUN)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert "Brownian" in help_screen.watch_for or "Too short" in help_screen.watch_for
        assert ("/", "Find metric") in help_screen.keys and ("m", "Metric") in help_screen.keys
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))


@run_async
async def test_every_series_of_a_grid_fits_at_80_columns_with_one_naming_rule():
    app = viewer(INTERVENTIONS_RUN)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        dashboard = app.screen
        state = dashboard.session.state
        table = dashboard.query_one(LatestValues)
        assert len(table.columns) == len(state.series) == 6
        assert table.virtual_size.width <= table.size.width  # no column off screen
        assert table._headings == [dashboard.names[s] for s in state.series]
        assert len(set(table._headings)) == 6  # shortened, never two alike
        assert table.rows[0][0] == "train/loss"  # the kind's main loss first


def test_names_shorten_by_one_rule_and_never_collide():
    names = ["adam-default", "adam-beta2", "adam-eps", "adam-beta2-eps", "sgd"]
    assert abbreviate("adam-beta2-eps", 3) == "adam-bet2-eps"
    assert short_names(names, lambda m: True) == {n: n for n in names}
    narrow = short_names(names, lambda m: sum(len(v) for v in m.values()) <= 40)
    assert len(set(narrow.values())) == 5 and sum(len(v) for v in narrow.values()) <= 40
    grid = [f"mlp+{i}/s{s}" for i in ("none", "layer_norm") for s in (0, 1)]
    assert short_names(grid, lambda m: max(len(v) for v in m.values()) <= 13)["mlp+layer_norm/s1"] == "layer_norm/s1"


@run_async
async def test_a_run_that_failed_before_its_first_numbers_says_so(tmp_path):
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-fa11ed"
    run_dir.mkdir(parents=True)
    reason = "scenarios/adam-tiny.toml: device: found 'cuda' but no CUDA GPU is visible; use --device auto or cpu"
    (run_dir / "meta.json").write_text(json.dumps({"scenario": "adam-tiny", "kind": "adam_instability", "series": ["adam-default"], "total_steps": 450, "device": "cuda", "seed": 0}))
    (run_dir / "metrics.jsonl").write_text("")
    (run_dir / "status.json").write_text(json.dumps({"state": "failed", "last_step": 0, "error": reason}))
    app = viewer(run_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        dashboard = app.screen
        chart = dashboard.query_one("#curves")
        assert "failed" in chart.placeholder and "waiting" not in chart.placeholder
        status = dashboard.query_one("#status")
        assert status.plain.splitlines()[1] == f"why {reason}"  # right under the state: never cut off


@run_async
async def test_the_ranking_of_a_run_shorter_than_its_window_says_all_iterations(recorded_runs_root):
    from plastilab.tui.screens.comparison import ComparisonScreen

    short = recorded_runs_root / "adam-tiny" / "20261125-093838-e66aea"  # 3 tasks; the window is 5
    app = viewer(short)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        await pilot.pause(0.3)
        table = app.screen.query_one("#ranking-table")
        assert table.border_title == "ranking · mean of all 3 iterations"
        assert "first" not in table.border_subtitle
        changes = [table.get_row_at(i)[4].plain for i in range(table.row_count)]
        assert changes and all(c == "–" for c in changes)  # not +0.0000


def test_a_rerun_from_the_runs_list_is_titled_with_the_scenarios_name(recorded_run):
    from plastilab.tui.new_sessions import scenario_name

    assert scenario_name(recorded_run / "scenario.toml") == "adam-tiny"
