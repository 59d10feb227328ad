"""Presenter mode over SSH (issue 26): the teacher's own read-only lab leads (``plastilab watch
RUNS --lead``, a local terminal); students of ``serve --ssh --follow`` follow the run, pane and
metric it shows; a student who pressed b browses freely and does not move; b again follows.
"""

from __future__ import annotations

import sys
import time

from ssh_helpers import SSHClassroom, Terminals, kill_quietly, new_key, shows_step, start_writer, tools_or_skip, wait_until

RUN = "20250101-000000-aaaaaa"
PLASTICITY = "plasticity probe fill this pane"  # the Plasticity pane's text without probe numbers


def runs_list(screen: str) -> bool:
    return "adam-tiny" in screen and "2025-01-01 00:00" in screen and "Open" in screen


def following(screen: str) -> bool:
    """The header says so; the footer offers b to browse."""
    lines = screen.strip().splitlines()
    return bool(lines) and "following" in lines[0] and "b Browse" in lines[-1]


def browsing(screen: str) -> bool:
    lines = screen.strip().splitlines()
    return bool(lines) and "browsing freely" in lines[0] and "b Follow" in lines[-1]


def dashboard(screen: str) -> bool:
    return shows_step(20)(screen) and "status" in screen


def test_students_follow_the_teachers_run_pane_and_metric(tmp_path, tiny_scenario_path):
    tools_or_skip()
    runs = tmp_path / "runs"
    writer = start_writer(runs / "adam-tiny" / RUN, tiny_scenario_path)
    key = new_key(tmp_path, "alice")
    (tmp_path / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    terminals = Terminals(tmp_path)
    try:
        with SSHClassroom(tmp_path, runs, ("--authorized-keys", str(tmp_path / "authorized_keys"), "--follow")) as room:
            assert "presenter mode" in room.log()
            terminals.open("teacher", ["sh", "-c", f"cd {tmp_path} && exec {sys.executable} -m plastilab watch runs --lead"], 100, 30)
            terminals.wait_for("teacher", runs_list, "the teacher's runs list")
            for student in ("follower", "free"):
                terminals.open(student, room.ssh(key), 80, 24)
                terminals.wait_for(student, lambda s: runs_list(s) and following(s), "the runs list, following")
            terminals.press("free", "b")
            terminals.wait_for("free", lambda s: runs_list(s) and browsing(s), "the header saying 'browsing'")

            terminals.press("teacher", "Enter")  # the teacher opens the live run
            terminals.wait_for("teacher", dashboard, "the teacher's dashboard")
            terminals.wait_for("follower", lambda s: dashboard(s) and following(s), "the teacher's run")
            terminals.press("teacher", "v", "v", "m")  # the Plasticity pane; the next metric
            terminals.wait_for("teacher", lambda s: PLASTICITY in s and "─ train/accuracy ─" in s, "the teacher's pane and metric")
            moved = time.monotonic()
            terminals.wait_for("follower", lambda s: PLASTICITY in s and "─ train/accuracy ─" in s, "the teacher's pane and metric")
            print(f"the follower showed the teacher's pane and metric {time.monotonic() - moved:.2f} s after the teacher's screen did")

            # The free student saw the same leader file the follower did, and stayed put: watched
            # for two more seconds (ten of the followers' polls), it never leaves the runs list.
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                screen = terminals.screen("free")
                assert runs_list(screen) and browsing(screen) and "status" not in screen, screen
                time.sleep(0.2)

            terminals.press("free", "b")  # follows again: the teacher's run, pane and metric
            terminals.wait_for("free", lambda s: dashboard(s) and PLASTICITY in s and "─ train/accuracy ─" in s and following(s), "the teacher's view after b")

            terminals.press("teacher", "Escape")  # back to the runs list: the students too
            for student in ("follower", "free"):
                terminals.wait_for(student, lambda s: runs_list(s) and "status" not in s, "the runs list again")
            terminals.press("teacher", "q")
            wait_until(lambda: not (runs / ".plastilab-leader.json").exists(), "the leader file to go with the teacher")
    finally:
        terminals.end()
        kill_quietly(writer)
