"""The comparison view: final loss per iteration charted, combinations ranked live and at the end.

Run folders are written here by the real writer from synthetic events (an interventions grid of
four combinations by two seeds), or taken from the recorded Adam run shipped with the tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from plastilab.core.events import RunFinished, RunStarted, Scalars, TaskBoundary
from plastilab.rundir.reader import RunFolder
from plastilab.analysis.ranking import as_records, rank_combinations, ranking_from_summary
from plastilab.tui.app import PlastilabApp
from plastilab.runtime.final_losses import final_losses, mean_over_seeds, ranking_window
from plastilab.runtime.run_state import RunState
from plastilab.tui.screens.comparison import ComparisonScreen
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.runtime.session import Session
from plastilab.tui.widgets.ranking_table import RankingTable
from tui.tui_helpers import run_async, settle, wait_until

SCENARIO = Path(__file__).parents[2] / "scenarios" / "interventions-quick.toml"
COMBINATIONS = ("none", "layer_norm", "shrink_and_perturb", "redo")
ITERATIONS = 12
STEPS = 20  # per iteration
WINDOW = 3


def final_loss(combination: int, seed: int, iteration: int) -> float:
    """Without an intervention the loss climbs to chance; the others keep it lower, apart by seed."""
    t = iteration / (ITERATIONS - 1)
    return (
        0.3 + 2.0 * t + 0.05 * seed * math.sin(iteration),  # none
        0.35 - 0.15 * t + 0.03 * seed,  # layer_norm
        0.5 + 0.05 * math.sin(iteration) + 0.04 * seed,  # shrink_and_perturb
        0.4 + 0.5 * t - 0.05 * seed,  # redo
    )[combination]


# By the formulas above, means over the last WINDOW iterations and both seeds: layer_norm ≈ 0.23,
# shrink_and_perturb ≈ 0.50, redo ≈ 0.83, none ≈ 2.1.
EXPECTED_ORDER = ["mlp+layer_norm", "mlp+shrink_and_perturb", "mlp+redo", "mlp+none"]


def expected_final_losses() -> dict[str, float]:
    """Mean over seeds of the mean final loss over the last WINDOW iterations, straight from the table."""
    last = range(ITERATIONS - WINDOW, ITERATIONS)
    return {
        f"mlp+{name}": sum(final_loss(c, s, it) for s in range(2) for it in last) / (2 * WINDOW)
        for c, name in enumerate(COMBINATIONS)
    }


def series_names() -> list[str]:
    return [f"mlp+{c}/s{s}" for c in COMBINATIONS for s in range(2)]


def grid_events(run_dir: Path, finish: bool = True, series_done: int | None = None) -> list:
    """The events of a grid run, series one after another, as the interventions runner sends them."""
    names = series_names()
    events: list = [RunStarted("interventions-test", "interventions", tuple(names), ITERATIONS * STEPS, "cpu", 0, str(run_dir))]
    for index, name in enumerate(names[:series_done]):
        combination, seed = divmod(index, 2)
        for iteration in range(ITERATIONS):
            step = iteration * STEPS
            events.append(TaskBoundary(step, iteration, series=name))
            events.append(Scalars(step + STEPS // 2, name, {"train/loss": 1.0}, 1000.0 + step))
            loss = final_loss(combination, seed, iteration)
            events.append(Scalars(step + STEPS, name, {"train/loss": loss, "task/final_loss": loss}, 1000.0 + step + STEPS))
    if finish:
        losses = {name: [final_loss(*divmod(i, 2), it) for it in range(ITERATIONS)] for i, name in enumerate(names)}
        ranking = rank_combinations(losses, WINDOW)
        events.append(RunFinished(ITERATIONS * STEPS, {"ranking": as_records(ranking), "ranking_window": WINDOW}))
    return events


def write_grid_run(run_dir: Path, finish: bool = True, series_done: int | None = None) -> Path:
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir.writer import RunFolderWriter

    scenario = load_scenario(SCENARIO, [f"task.n_iterations={ITERATIONS}", f"ranking.window={WINDOW}"])
    writer = RunFolderWriter(run_dir, scenario, command=["test"])
    for event in grid_events(run_dir, finish, series_done):
        writer.handle(event)
    writer.close()
    return run_dir


def grid_folder(tmp_path: Path, **kwargs) -> Path:
    return write_grid_run(tmp_path / "runs" / "interventions-test" / "20250101-000000-abc123", **kwargs)


def open_app(run_dir: Path, theme: str = "textual-dark") -> PlastilabApp:
    return PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent, theme=theme)


def table_rows(screen: ComparisonScreen) -> list[tuple[str, int, int]]:
    return [(r.name, r.n_seeds, r.n_iterations) for r in screen.query_one(RankingTable).ranking]


# -- the data behind the view (no Textual) ----------------------------------------------------
def test_final_losses_and_the_mean_over_seeds():
    state = RunState()
    state.apply_all(grid_events(Path("/nowhere"), finish=False, series_done=3))
    losses = final_losses(state)
    assert list(losses) == ["mlp+none/s0", "mlp+none/s1", "mlp+layer_norm/s0"]
    assert losses["mlp+none/s1"] == [final_loss(0, 1, i) for i in range(ITERATIONS)]
    means = mean_over_seeds(losses)
    assert means["mlp+none"][-1] == (final_loss(0, 0, 11) + final_loss(0, 1, 11)) / 2
    assert means["mlp+layer_norm"] == losses["mlp+layer_norm/s0"]


def test_a_non_finite_final_loss_ranks_its_combination_last():
    state = RunState()
    state.apply(Scalars(10, "mlp+none/s0", {"task/final_loss": 0.5}, 1.0))
    state.apply(Scalars(20, "mlp+none/s0", {"task/final_loss": float("nan")}, 2.0))
    state.apply(Scalars(10, "mlp+redo/s0", {"task/final_loss": 0.9}, 1.0))
    losses = final_losses(state)
    assert losses["mlp+none/s0"] == [0.5, None]
    ranking = rank_combinations(losses, 5)
    assert [r.name for r in ranking] == ["mlp+redo", "mlp+none"]
    assert ranking[1].final_loss is None


def test_the_ranking_window_comes_from_the_run_folder(tmp_path):
    run_dir = grid_folder(tmp_path)
    assert ranking_window(run_dir) == WINDOW
    assert ranking_window(tmp_path / "missing") == 5


# -- the screen -----------------------------------------------------------------------------
@run_async
async def test_compare_key_opens_the_ranking_of_a_finished_grid(tmp_path):
    run_dir = grid_folder(tmp_path)
    app = open_app(run_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.screen.check_action("compare", ()) is True
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        screen = app.screen
        await pilot.pause(0.2)
        assert screen.window == WINDOW
        names = [r.name for r in screen.query_one(RankingTable).ranking]
        # the live ranking is the one the run wrote into its summary
        summary = RunFolder.open(run_dir).summary
        assert names == [r["name"] for r in summary["scenario_summary"]["ranking"]]
        assert screen.query_one(RankingTable).ranking == ranking_from_summary(summary, WINDOW)
        # worked out from the loss table, not by the ranking code: lower final loss first
        assert names == EXPECTED_ORDER
        shown = {r.name: r.final_loss for r in screen.query_one(RankingTable).ranking}
        assert shown == {name: pytest.approx(value) for name, value in expected_final_losses().items()}
        assert names[-1] == "mlp+none"
        worst = screen.query_one(RankingTable).ranking[-1]
        assert worst.change > 1.0 and worst.n_seeds == 2 and worst.n_iterations == ITERATIONS
        assert "mean over seeds" in screen.query_one("#final-loss-pane").border_title
        await pilot.press("a")  # each seed
        assert "each seed" in screen.query_one("#final-loss-pane").border_title
        await pilot.press("h")  # hide the best combination from the chart
        assert screen.hidden == {names[0]}
        await pilot.press("down", "enter")  # enter on a row does the same
        assert screen.hidden == {names[0], names[1]}
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))


@run_async
async def test_the_ranking_fills_while_the_grid_runs(tmp_path):
    """Events folded into a live session's state reach the open comparison view at once."""

    class NoSource:
        done = True
        live = True

        def poll(self, timeout):
            return []

    app = PlastilabApp(runs_root=tmp_path, watch_dir=None)
    state = RunState(live=True)
    session = Session(NoSource(), state, title="grid")
    events = grid_events(tmp_path, finish=False)
    names = series_names()

    def of(*series: str) -> list:
        return [e for e in events if isinstance(e, (Scalars, TaskBoundary)) and e.series in series]

    async with app.run_test(size=(80, 24)) as pilot:
        app._open(session)
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        state.apply(events[0])  # RunStarted
        await pilot.pause(0.3)
        assert app.screen.check_action("compare", ()) is False  # nothing to compare yet
        state.apply_all(of(*names[:3]))  # none twice, layer_norm once
        await wait_until(pilot, lambda: app.screen.check_action("compare", ()) is True, timeout=5)
        dashboard = app.screen
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        screen = app.screen
        assert table_rows(screen) == [("mlp+layer_norm", 1, ITERATIONS), ("mlp+none", 2, ITERATIONS)]
        hidden_redraws = dashboard.redraw_count
        assert screen.check_action("toggle_seeds", ()) is True
        state.apply_all(of(names[3], names[4]))  # layer_norm/s1 and shrink_and_perturb/s0
        await wait_until(pilot, lambda: len(table_rows(screen)) == 3, timeout=5)
        assert table_rows(screen)[0] == ("mlp+layer_norm", 2, ITERATIONS)
        state.apply_all(of(names[6])[:6])  # redo/s0: two iterations in
        await wait_until(pilot, lambda: len(table_rows(screen)) == 4, timeout=5)
        assert ("mlp+redo", 1, 2) in table_rows(screen)  # still running: drawn dim
        assert dashboard.redraw_count == hidden_redraws  # the covered dashboard waits
        await pilot.press("escape")
        await wait_until(pilot, lambda: dashboard.redraw_count > hidden_redraws, timeout=5)
        assert dashboard._drawn_version == state.version


@run_async
async def test_the_adam_scenario_compares_its_variants(recorded_run):
    """Every variant is its own series (no seeds): one row each, no seed toggle in the footer."""
    app = open_app(recorded_run)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ComparisonScreen))
        screen = app.screen
        await pilot.pause(0.2)
        rows = table_rows(screen)
        assert sorted(name for name, _, _ in rows) == ["adam-beta2-eps", "adam-default", "sgd"]
        assert all(seeds == 1 and iterations == 6 for _, seeds, iterations in rows)
        assert screen.check_action("toggle_seeds", ()) is False
        assert screen.window == 5  # the Adam scenario has no ranking section


def test_comparison_view_of_a_grid(snap_compare, tmp_path):
    app = open_app(grid_folder(tmp_path))

    async def ready(pilot):
        await settle(pilot, app)
        await pilot.press("c")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
