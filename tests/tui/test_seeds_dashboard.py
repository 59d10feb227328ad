"""The dashboard's seeds key: each variant's mean and min-max over its seeds, for multi-seed runs."""

from __future__ import annotations

from plastilab.core.events import RunFinished, RunStarted, Scalars, TaskBoundary
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.widgets.learning_curves import LearningCurves, seed_groups
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
        await pilot.press("a")
        await wait_until(pilot, lambda: "over seeds" in str(screen.query_one("#curves-pane").border_title))
        await wait_until(pilot, lambda: screen._drawn_version == screen.session.state.version and not screen._view_changed)
        assert screen.query_one(LearningCurves).placeholder is None  # drawn
        await pilot.press("q")
