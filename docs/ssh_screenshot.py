"""Draws docs/figures/ssh_student_80x24.svg: a student's screen over SSH at 80x24, following the
teacher (``serve --ssh --follow``), captured from tmux with its colours and drawn by rich.

    .venv/bin/python docs/ssh_screenshot.py RUNS_DIR RUN    (needs ssh and tmux, like the SSH tests)

RUN is a run folder inside RUNS_DIR (e.g. adam-many-tasks/20261207-114038-9645ed), best one that
a `plastilab run --out RUNS_DIR` is still writing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from plastilab.classroom.leader_state import LeaderView, write_view  # noqa: E402
from ssh_helpers import SSHClassroom, Terminals, new_key  # noqa: E402

OUT = REPO / "docs" / "figures" / "ssh_student_80x24.svg"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=Path)
    parser.add_argument("run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "runs").symlink_to(args.runs.resolve())
        key = new_key(home, "student")
        (home / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
        terminals = Terminals(home)
        try:
            with SSHClassroom(home, home / "runs", ("--authorized-keys", str(home / "authorized_keys"), "--follow")) as room:
                write_view(args.runs, LeaderView(args.run, "values", None))  # the teacher's view
                terminals.open("student", room.ssh(key), 80, 24)
                terminals.wait_for("student", lambda s: "following" in s and "step" in s and "status" in s, "the teacher's run")
                terminals.wait_for("student", lambda s: "task change" in s and "Values" in s and "b Browse" in s, "the curves, the values and the keys")
                ansi = terminals.tmux("capture-pane", "-p", "-e", "-t", "student").stdout
        finally:
            terminals.end()
            (args.runs / ".plastilab-leader.json").unlink(missing_ok=True)
    console = Console(record=True, width=80, color_system="256", file=open("/dev/null", "w"))
    for line in ansi.rstrip("\n").split("\n")[:24]:
        console.print(Text.from_ansi(line), no_wrap=True, crop=True)
    console.save_svg(str(OUT), title="ssh -p 2222 student@classroom")
    print(OUT)


if __name__ == "__main__":
    main()
