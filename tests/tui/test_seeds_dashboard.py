"""The dashboard's seeds key: each variant's mean and min-max over its seeds, for multi-seed runs."""

from __future__ import annotations

import numpy as np

from plastilab.core.events import Curve, Histogram, RunFinished, RunStarted, Scalars, TaskBoundary
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.eigenvalue_histogram import event_bulk, mean_bulk
from plastilab.tui.widgets.learning_curves import LearningCurves, seed_groups
from plastilab.tui.widgets.plasticity_curve import unit_rows
from plastilab.tui.widgets.seed_bands import drawn_units
from tui.tui_helpers import run_async, wait_until

SERIES = ("adam-default/s0", "adam-default/s1", "sgd/s0", "sgd/s1")


def write_run(run_dir, scenario_path, series):
    writer = RunFolderWriter(run_dir, load_scenario(scenario_path), command=["test"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", series, 100, "cpu", 0, str(run_dir)))
    writer.handle(TaskBoundary(0, 0))
    for step in range(10, 101, 10):
        for i, name in enumerate(series):
            writer.handle(Scalars(step, name, {"train/loss": 2.0 / step + i}, 1000.0 + step))
    writer.handle(RunFinished(100))


def test_seed_groups_need_two_seeds():
    assert seed_groups(list(SERIES)) == {"adam-default": list(SERIES[:2]), "sgd": list(SERIES[2:])}
    assert seed_groups(["adam-default", "sgd/s0"]) == {}


@run_async
async def test_the_seeds_key_switches_the_curves_to_mean_and_envelope(tmp_path, test_scenarios):
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-aaaaaa"
    write_run(run_dir, test_scenarios / "adam-tiny.toml", SERIES)
    app = PlastilabApp(watch_dir=run_dir, runs_root=tmp_path / "runs")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.session.state.state == "finished")
        assert screen.check_action("over_seeds", ())
        await pilot.press("a")
        await wait_until(pilot, lambda: "over seeds" in str(screen.query_one("#curves-pane").border_title))
        await wait_until(pilot, lambda: screen._drawn_version == screen.session.state.version and not screen._view_changed)
        assert screen.over_seeds and screen.query_one(LearningCurves).placeholder is None  # drawn, not waiting
        await pilot.press("q")


@run_async
async def test_a_one_seed_run_has_no_seeds_key(tmp_path, test_scenarios):
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-bbbbbb"
    write_run(run_dir, test_scenarios / "adam-tiny.toml", ("adam-default", "sgd"))
    app = PlastilabApp(watch_dir=run_dir, runs_root=tmp_path / "runs")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await wait_until(pilot, lambda: app.screen.session.state.state == "finished")
        assert not app.screen.check_action("over_seeds", ())
        await pilot.press("q")


@run_async
async def test_a_populations_128_series_group_into_their_variants(tmp_path, test_scenarios):
    # 4 variants x 32 seeds, as a population run writes them: the legend gives way to a key
    # line, and the seeds key draws each variant's mean and min-max, 4 groups, not 128 lines.
    many = tuple(f"{variant}/s{seed}" for variant in ("adam-default", "adam-beta2", "adam-eps", "sgd") for seed in range(32))
    run_dir = tmp_path / "runs" / "adam-tiny" / "20250101-000000-cccccc"
    write_run(run_dir, test_scenarios / "adam-tiny.toml", many)
    assert {variant: len(names) for variant, names in seed_groups(list(many)).items()} == {"adam-default": 32, "adam-beta2": 32, "adam-eps": 32, "sgd": 32}
    app = PlastilabApp(watch_dir=run_dir, runs_root=tmp_path / "runs")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.session.state.state == "finished")
        await wait_until(pilot, lambda: "128 series" in str(screen.query_one("#legend").render()))
        # more series than colours: grouped from the start (GROUP_ABOVE), key a shows every seed
        await wait_until(pilot, lambda: "over seeds" in str(screen.query_one("#curves-pane").border_title))
        await wait_until(pilot, lambda: screen._drawn_version == screen.session.state.version and not screen._view_changed)
        assert screen.over_seeds and screen.query_one(LearningCurves).placeholder is None  # drawn
        await pilot.press("a")
        await wait_until(pilot, lambda: "over seeds" not in str(screen.query_one("#curves-pane").border_title))
        assert not screen.over_seeds
        await pilot.press("q")


def test_the_probe_and_hessian_panes_group_seeds_like_the_curves():
    # 2 variants x 3 seeds and one lone series: grouped, the probe pane draws each variant's
    # min, max and mean over its seeds and the Hessian pane each variant's mean density.
    series = [f"{v}/s{s}" for v in ("adam", "sgd") for s in range(3)] + ["lone"]
    assert drawn_units(series, set(series), {"sgd/s1"}, True) == [["adam/s0", "adam/s1", "adam/s2"], ["sgd/s0", "sgd/s2"], ["lone"]]
    assert drawn_units(series, {"adam/s0", "extra"}, set(), False) == [["adam/s0"], ["extra"]]
    x = np.arange(5.0)
    curves = [Curve(10, f"adam/s{s}", "probe/curve", x, (s + 1) * np.exp(-x)) for s in range(3)]
    bx, rows = unit_rows(tuple(curves))
    (low, _), (high, _), (mean, marker) = rows
    assert np.array_equal(bx, x) and marker == "braille"
    assert np.allclose(low, np.exp(-x)) and np.allclose(high, 3 * np.exp(-x)) and np.allclose(mean, 2 * np.exp(-x))
    # two seeds' densities on different bins: the mean is each seed's density on one grid, 0 outside its own
    a = event_bulk(Histogram(10, "adam/s0", "hessian/density", np.array([1.0, 1.0]), np.array([0.0, 1.0, 2.0])))
    b = event_bulk(Histogram(20, "adam/s1", "hessian/density", np.array([2.0, 2.0]), np.array([2.0, 3.0, 4.0])))
    event, grid, density, outside, span = mean_bulk([a, b])
    assert event.step == 20 and grid[0] == 0.5 and grid[-1] == 3.5 and outside == 0.0 and span == (0.0, 4.0)
    assert np.allclose(density, [np.mean([np.interp(g, [0.5, 1.5], [1, 1], left=0, right=0), np.interp(g, [2.5, 3.5], [2, 2], left=0, right=0)]) for g in grid])
