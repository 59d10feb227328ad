"""Presenter mode's leader file (plastilab/classroom/leader_state.py): written whole, read only
when it changed, and anything that is not a view is ignored by followers."""

from __future__ import annotations

import os

import pytest

from plastilab.classroom.leader_state import LEADER_FILE, LeaderFileWatcher, LeaderView, parse_view, remove_view, write_view
from plastilab.cli import main


def test_a_written_view_is_read_once_then_again_after_a_change(tmp_path):
    watcher = LeaderFileWatcher(tmp_path)
    assert watcher.poll() is None  # no leader yet
    write_view(tmp_path, LeaderView("adam-tiny/20250101-000000-aaaaaa", "log", "train/loss"))
    assert watcher.poll() == LeaderView("adam-tiny/20250101-000000-aaaaaa", "log", "train/loss")
    assert watcher.poll() is None  # unchanged: one stat, no read
    write_view(tmp_path, LeaderView(None, None, None))
    assert watcher.poll() == LeaderView(None, None, None) and watcher.view == LeaderView(None, None, None)
    assert sorted(os.listdir(tmp_path)) == [LEADER_FILE]  # the temporary file was renamed over it
    remove_view(tmp_path)
    assert watcher.poll() is None and not (tmp_path / LEADER_FILE).exists()
    remove_view(tmp_path)  # twice: nothing to do


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"run": 3}', '{"pane": ["log"]}', '{"metric": "' + "x" * 2000 + '"}'])
def test_anything_but_a_view_is_ignored(tmp_path, text):
    assert parse_view(text) is None
    (tmp_path / LEADER_FILE).write_text(text)
    watcher = LeaderFileWatcher(tmp_path)
    assert watcher.poll() is None and watcher.view is None


def test_a_huge_leader_file_is_not_read(tmp_path):
    (tmp_path / LEADER_FILE).write_text('{"run": null}' + " " * 10_000)
    assert LeaderFileWatcher(tmp_path).poll() is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["serve", "--follow"], "--follow: students follow the teacher in a read-only lab; add --watch RUNS_DIR"),
        (["serve", "--password"], "--password: only with --ssh"),
        (["serve", "--ssh"], "--ssh: serves the read-only lab over a folder of runs; add --watch RUNS_DIR"),
        (["serve", "--ssh", "--watch", ".", "--token", "x" * 20], "--token: the browser lab's secret"),
        (["watch", ".", "--lead", "--follow"], "--lead and --follow: a viewer leads or follows; choose one"),
    ],
)
def test_presenter_and_ssh_options_out_of_place_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
