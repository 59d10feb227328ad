"""Presenter mode in-process (tui/presenter.py): a leading lab publishes its run, pane and metric;
a following read-only lab shows the same, ignores a leader file that points outside its folder,
and stays put while browsing. The tmux test over SSH is tests/test_ssh_presenter.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plastilab.classroom.leader_state import LEADER_FILE, LeaderFileWatcher, LeaderView, write_view
from plastilab.tui.app import PlastilabApp
from plastilab.tui.messages import LaunchRequest
from plastilab.tui.presenter import BROWSING, FOLLOWING
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.runs import RunsScreen
from tui.conftest import RUNS
from tui.tui_helpers import run_async, wait_until

RUN = "adam-tiny/20261125-093820-444e4e"


def follows(app, run, pane, metric) -> bool:
    screen = app.screen
    return (
        isinstance(screen, DashboardScreen)
        and screen.session.folder.resolve() == (app.runs_root / run).resolve()
        and screen.query_one("TabbedContent").active == pane
        and screen.tag == metric
    )


@run_async
async def test_a_follower_shows_the_leaders_run_pane_and_metric(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(RUNS, runs)
    leader = PlastilabApp(runs_root=runs, read_only=True, lead=True)
    follower = PlastilabApp(runs_root=runs, read_only=True, follow=True)
    async with leader.run_test(size=(80, 24)) as teacher, follower.run_test(size=(80, 24)) as student:
        await wait_until(student, lambda: isinstance(follower.screen, RunsScreen) and follower.screen.sub_title.endswith(FOLLOWING))
        # Keys, not calls: with two apps in one process, code outside an app's own loop would
        # build its screens in the other app.
        await wait_until(teacher, lambda: isinstance(leader.screen, RunsScreen))
        await teacher.press("enter")  # the first run of the list
        await wait_until(teacher, lambda: isinstance(leader.screen, DashboardScreen) and leader.screen.tag is not None)
        await teacher.press("v", "m")  # the Log pane, the next metric
        dashboard = leader.screen
        await wait_until(teacher, lambda: dashboard.query_one("TabbedContent").active == "log")
        run = dashboard.session.folder.relative_to(runs).as_posix()
        metric = dashboard.tag
        await wait_until(student, lambda: follows(follower, run, "log", metric))
        assert (runs / LEADER_FILE).is_file()

        write_view(runs, LeaderView("../../etc", "values", "train/loss"))  # not a run in the folder
        await student.pause(1.0)
        assert follows(follower, run, "log", metric)

        await student.press("b")  # browse freely: the leader's next view is not shown
        assert follower.screen.sub_title.endswith(BROWSING)
        other = "train/loss" if metric != "train/loss" else dashboard.session.state.tags()[-1]
        write_view(runs, LeaderView(RUN, "values", other))
        await student.pause(1.0)
        assert follows(follower, run, "log", metric)
        await student.press("b")  # follow again
        await wait_until(student, lambda: follows(follower, RUN, "values", other))

        write_view(runs, LeaderView(None, None, None))  # the teacher is back on the runs list
        await wait_until(student, lambda: isinstance(follower.screen, RunsScreen))
        await teacher.press("q")
    assert not (runs / LEADER_FILE).exists()  # the leader's file goes with it


@pytest.mark.timeout(600)
@run_async
async def test_the_teachers_full_lab_leads_with_the_run_it_launched(tmp_path, test_scenarios):
    runs = tmp_path / "runs"
    app = PlastilabApp(scenarios_dirs=[test_scenarios], runs_root=runs, lead=True)
    async with app.run_test(size=(80, 24)) as pilot:
        session = app.launch(LaunchRequest(test_scenarios / "adam-tiny.toml", [], "cpu"))
        watcher = LeaderFileWatcher(runs)
        await wait_until(pilot, lambda: session.state.run_dir is not None and watcher.poll() is not None and watcher.view.run is not None, timeout=300)
        assert (runs / watcher.view.run).resolve() == Path(session.state.run_dir).resolve()
        assert watcher.view.pane == "values"
        await pilot.press("q")
