"""The CLI's doors into the lab (`plastilab`, `plastilab watch`): what app they open, on what.

The app's `run` is replaced by a recorder, so these tests check what each door hands the lab
without starting a terminal UI; the lab itself is tested through Textual's pilot elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from plastilab.cli import app as cli_app
from plastilab.core.catalog import builtin_scenario_dir
from plastilab.core.errors import PlastilabError
from plastilab.tui import launch
from plastilab.tui.app import PlastilabApp


@pytest.fixture
def opened(monkeypatch) -> list[PlastilabApp]:
    """The apps the doors would have run."""
    apps: list[PlastilabApp] = []
    monkeypatch.setattr(PlastilabApp, "run", lambda self, *a, **k: apps.append(self))
    return apps


def test_run_app_opens_the_picker_over_the_built_in_and_extra_scenarios(opened, tmp_path):
    launch.run_app([tmp_path / "mine"], runs_root=tmp_path / "runs")
    (app,) = opened
    assert app.scenarios_dirs == [builtin_scenario_dir(), tmp_path / "mine"]
    assert app.runs_root == tmp_path / "runs"
    assert app.watch_dir is None


def test_watch_opens_the_dashboard_on_the_run_folder(opened, recorded_run):
    launch.watch(recorded_run)
    (app,) = opened
    assert app.watch_dir == recorded_run
    assert app.runs_root == recorded_run.parent.parent


def test_watch_refuses_a_folder_that_is_no_run_folder(opened, tmp_path):
    with pytest.raises(PlastilabError) as raised:
        launch.watch(tmp_path)
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(f"{tmp_path}: not a run folder")
    assert opened == []


def test_plastilab_watch_on_a_path_that_is_no_folder_says_so_in_one_line(opened, tmp_path):
    missing = tmp_path / "no-such-run"
    result = CliRunner().invoke(cli_app, ["watch", str(missing)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f"plastilab: {missing}: not a run folder (no status.json or metrics.jsonl) nor a folder of runs"]
    assert opened == []


def test_plastilab_watch_on_a_folder_of_runs_opens_the_read_only_lab(opened, tmp_path):
    result = CliRunner().invoke(cli_app, ["watch", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [(a.read_only, a.runs_root) for a in opened] == [(True, tmp_path)]


def test_plastilab_watch_on_a_run_folder_opens_it(opened, recorded_run):
    result = CliRunner().invoke(cli_app, ["watch", str(recorded_run)])
    assert result.exit_code == 0, result.output
    assert [a.watch_dir for a in opened] == [recorded_run]


def test_plastilab_without_a_command_opens_the_lab_with_its_options(opened, tmp_path):
    result = CliRunner().invoke(cli_app, ["--scenarios", str(tmp_path / "a"), "--runs", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    (app,) = opened
    assert app.scenarios_dirs == [builtin_scenario_dir(), Path(tmp_path / "a")]
    assert app.runs_root == tmp_path / "r"
