"""The study view over a study folder: the trials' states and counts, updates as trials finish,
Enter opens a trial's dashboard, the scatter's r is the aggregate's, and a read-only view stops
nothing. The folders are written by the code that writes real ones (tui/study_folders.py)."""

from __future__ import annotations

import math

import pytest
from textual.widgets import DataTable, Static
from typer.testing import CliRunner

from plastilab.cli import app as cli_app
from plastilab.studies.aggregate import correlation_rows, last_probe_step_rows
from plastilab.studies.probe_table import build_table, load_probe_steps
from plastilab.studies.ledger import read_ledger
from plastilab.tui.app import PlastilabApp
from plastilab.tui.screens.confirm import ConfirmScreen
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.runs import RunsScreen
from plastilab.tui.screens.study_view import StudyViewScreen
from plastilab.tui.study_sessions import start_study
from tui.study_folders import SyntheticStudy
from tui.tui_helpers import run_async, wait_until


@pytest.fixture
def study(tmp_path):
    """Six trials: t000-t002 finished, t003 failed, t004 running, t005 pending."""
    synthetic = SyntheticStudy(tmp_path / "runs")
    for trial_id in ("t000", "t001", "t002"):
        synthetic.finish(trial_id)
    synthetic.fail("t003")
    synthetic.start("t004", steps=150)
    yield synthetic
    synthetic.close()


def watch_app(study_dir):
    return PlastilabApp(runs_root=study_dir.parent.parent, read_only=True, study_dir=study_dir)


def states_shown(screen: StudyViewScreen) -> dict[str, str]:
    table = screen.query_one("#study-trials", DataTable)
    return {key.value: str(table.get_cell(key.value, "state")) for key in table.rows}


def counts_text(screen: StudyViewScreen) -> str:
    return str(screen.query_one("#study-counts", Static).render())


async def opened(pilot, app) -> StudyViewScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, StudyViewScreen) and app.screen.snapshot is not None)
    return app.screen


def expected_correlations(study, last: bool = False) -> list[dict]:
    """What studies/aggregate.py and core/statistics.py make of the folder's finished trials."""
    probe_steps = load_probe_steps(study.dir, study.study, read_ledger(study.dir / "trials.jsonl"))
    columns, rows, target = build_table(study.study, probe_steps)
    return correlation_rows(columns, last_probe_step_rows(rows) if last else rows, target, study.study.config.analysis.bootstrap)


@run_async
async def test_the_table_shows_each_trials_state_and_the_counts(study):
    app = watch_app(study.dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, app)
        assert states_shown(screen) == {"t000": "finished", "t001": "finished", "t002": "finished", "t003": "failed", "t004": "running", "t005": "pending"}
        table = screen.query_one("#study-trials", DataTable)
        assert str(table.get_cell("t004", "step")) == "150/300"  # the running trial's run folder
        assert str(table.get_cell("t000", "step")) == "300/300"
        assert "optimizer=adam" in str(table.get_cell("t000", "settings"))
        text = counts_text(screen)
        assert "done 3/6" in text and "running 1" in text and "failed 1" in text and "pending 1" in text
        assert "ETA" in text  # a trial runs and three finished: their median time paces the rest


@run_async
async def test_the_view_updates_when_a_trial_finishes(study):
    app = watch_app(study.dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, app)
        n_before = screen.shown_correlation["n"]
        study.finish("t004")  # checkpoints, then the ledger line, as the runner writes them
        await wait_until(pilot, lambda: states_shown(screen)["t004"] == "finished")
        await wait_until(pilot, lambda: "done 4/6" in counts_text(screen))
        await wait_until(pilot, lambda: screen.shown_correlation["n"] == n_before + 2)  # two checkpoints after step 0
        assert "ETA" not in counts_text(screen)  # nothing runs now


@run_async
async def test_enter_on_a_trial_opens_its_dashboard(study):
    app = watch_app(study.dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, app)
        table = screen.query_one("#study-trials", DataTable)
        table.move_cursor(row=table.get_row_index("t001"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        expected = study.dir / read_ledger(study.dir / "trials.jsonl")["t001"]["run_dir"]
        assert app.screen.session.folder == expected
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        table.move_cursor(row=table.get_row_index("t004"))  # running: its newest run folder, followed
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert app.screen.session.folder == study.writers["t004"][1] and app.screen.session.state.live


@run_async
async def test_the_scatters_r_is_the_aggregates_for_each_statistic(study):
    pooled, last = expected_correlations(study), expected_correlations(study, last=True)
    app = watch_app(study.dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, app)
        await wait_until(pilot, lambda: screen.shown_correlation is not None)
        assert screen.colour_by == "agents.mlp.optimizer"  # the study's color_by
        seen = []
        for _ in pooled:
            shown = screen.shown_correlation
            want = next(r for r in pooled if r["statistic"] == screen.statistic)
            assert shown["pearson"] == want["pearson"] and shown["n"] == want["n"] == 6  # 3 trials x 2 checkpoints
            assert f"{want['pearson']:+.2f}" in str(screen.query_one("#study-caption", Static).render())
            seen.append(screen.statistic)
            await pilot.press("x")
        assert seen == [r["statistic"] for r in pooled]  # sorted by |r|, the first the strongest
        assert math.isfinite(pooled[0]["pearson"])
        await pilot.press("a")  # the last checkpoint of each trial only
        await wait_until(pilot, lambda: screen.last_only)
        want = next(r for r in last if r["statistic"] == screen.statistic)
        assert screen.shown_correlation["pearson"] == want["pearson"] and screen.shown_correlation["n"] == 3
        await pilot.press("c")
        assert screen.colour_by == "seed"


@run_async
async def test_a_read_only_view_cannot_stop_the_study(study):
    app = watch_app(study.dir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot, app)
        assert not screen.check_action("stop", ()) and not screen.check_action("back", ())
        await pilot.press("s", "y", "escape")
        await pilot.pause(0.3)
        assert app.screen is screen and not isinstance(app.screen, ConfirmScreen)
        assert read_ledger(study.dir / "trials.jsonl")["t004"]["state"] == "running"
        assert start_study(app, study.study.path) is None  # nor can anything be started
        assert app.study_processes == []


@run_async
async def test_the_classroom_lists_a_study_as_one_line_and_opens_its_view(study, tmp_path):
    app = PlastilabApp(runs_root=tmp_path / "runs", read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count == 1)
        run = app.screen.query_one("#runs-table").current()
        assert run.kind == "study" and run.path == study.dir and run.state == "running"
        assert "3/6 trials finished" in run.finals_text()
        await pilot.press("enter")
        screen = await opened(pilot, app)
        assert screen.study_dir == study.dir and not screen.check_action("stop", ())
        await pilot.press("escape")  # back to the runs list: it was the first screen
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))


def test_plastilab_watch_on_a_study_folder_opens_its_view_read_only(study, monkeypatch):
    apps = []
    monkeypatch.setattr(PlastilabApp, "run", lambda self, *a, **k: apps.append(self))
    result = CliRunner().invoke(cli_app, ["watch", str(study.dir)])
    assert result.exit_code == 0, result.output
    (app,) = apps
    assert app.study_dir == study.dir and app.read_only and app.watch_dir is None


@run_async
async def test_a_scaling_study_draws_plasticity_against_width(tmp_path):
    synthetic = SyntheticStudy(tmp_path / "runs", name="widths", seeds=2, analysis="scaling")
    try:
        for trial in synthetic.study.trials:
            synthetic.finish(trial.id)
        app = watch_app(synthetic.dir)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await opened(pilot, app)
            points = screen.snapshot.aggregate.scaling
            assert [p["x"] for p in points] == [16.0, 32.0, 64.0] and all(p["n"] == 2 for p in points)
            caption = str(screen.query_one("#study-caption", Static).render())
            assert "vs agents.mlp.hidden" in caption and "95% interval over seeds" in caption
            assert screen.query_one("#study-chart").placeholder is None  # a curve, not the hint
            assert not screen.check_action("next_statistic", ()) and not screen.check_action("next_colour", ())
    finally:
        synthetic.close()


def test_study_view_at_80x24(snap_compare, tmp_path):
    synthetic = SyntheticStudy(tmp_path / "runs", stamp="20260101-000000-aaaaaa")
    for trial_id in ("t000", "t001", "t002", "t004"):
        synthetic.finish(trial_id)
    synthetic.fail("t003")
    synthetic.close()
    app = watch_app(synthetic.dir)

    async def ready(pilot):
        await wait_until(pilot, lambda: isinstance(app.screen, StudyViewScreen) and app.screen.shown_correlation is not None)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
