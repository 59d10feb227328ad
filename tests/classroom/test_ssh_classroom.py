"""The SSH classroom (issue 26) with real clients: Debian's OpenSSH ``ssh``, ``sftp`` and ``scp``
in tmux panes against ``plastilab serve --ssh --watch RUNS``.

A student connects with a key at 80x24, watches a live run, moves with the keys, resizes, quits;
everything but the lab is refused; twenty students watch at once and the cap holds; SIGTERM ends
every session. The teacher's run is a real run-folder writer in another process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from browser_helpers import descendants, free_port, gone
from ssh_helpers import SSHClassroom, Terminals, kill_quietly, new_key, shows_step, start_writer, tell, tools_or_skip, wait_until

RUN = "20250101-000000-aaaaaa"


def runs_list(screen: str) -> bool:
    """The read-only lab's first screen, with the teacher's run in it."""
    return "adam-tiny" in screen and "2025-01-01 00:00" in screen and "Open" in screen


@pytest.fixture
def lesson(tmp_path, tiny_scenario_path):
    """A runs folder with the teacher's live run, a student's key on the list, tmux for terminals."""
    tools_or_skip()
    runs = tmp_path / "runs"
    writer = start_writer(runs / "adam-tiny" / RUN, tiny_scenario_path)
    key = new_key(tmp_path, "alice")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(key.with_suffix(".pub").read_text())
    terminals = Terminals(tmp_path)
    yield tmp_path, runs, writer, key, authorized, terminals
    terminals.end()
    kill_quietly(writer)


def test_a_student_watches_a_live_run_resizes_and_quits(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    with SSHClassroom(tmp_path, runs, ("--authorized-keys", str(authorized))) as room:
        public = tmp_path / "config" / "plastilab" / "ssh_host_ed25519_key.pub"
        shown = subprocess.run(["ssh-keygen", "-lf", str(public)], capture_output=True, text=True, check=True).stdout
        assert room.fingerprint and room.fingerprint in shown  # the fingerprint printed is the key's
        assert f"students type:  ssh -p {room.port} student@127.0.0.1" in room.log()
        assert "classroom password" not in room.log()  # keys only, as asked

        terminals.open("alice", room.ssh(key), 80, 24)
        terminals.wait_for("alice", runs_list, "the runs list with the teacher's run")
        terminals.press("alice", "Enter")
        terminals.wait_for("alice", lambda s: shows_step(20)(s) and "train/loss" in s, "the live run at step 20")
        tell(writer, "more")
        terminals.wait_for("alice", shows_step(50), "the curves and status at step 50")
        assert "\x1b[38;5;" in terminals.colours("alice")  # TERM=xterm-256color: 256 colours
        # Pause, stop, rerun: refused in the read-only lab; then the next metric, so the keys
        # before it were read too.
        terminals.press("alice", "p", "s", "r", "m")
        terminals.wait_for("alice", lambda s: "─ train/accuracy ─" in s, "the next metric's curves")
        assert "running" in terminals.screen("alice") and writer.poll() is None
        assert [p.name for p in (runs / "adam-tiny").iterdir()] == [RUN]  # nothing launched

        terminals.resize("alice", 120, 40)
        redrawn = terminals.wait_for("alice", lambda s: len(s.rstrip("\n").splitlines()) >= 39 and max(len(line) for line in s.splitlines()) >= 115, "a redraw at 120x40")
        assert shows_step(50)(redrawn) and "train/accuracy" in redrawn

        terminals.open("bob", room.ssh(key), 80, 24)  # a second student whose connection drops
        terminals.wait_for("bob", runs_list, "bob's runs list")
        wait_until(lambda: len(room.labs()) == 2, "two labs", show=room.log)
        terminals.close("bob")  # the terminal (and its ssh) is gone without a word
        wait_until(lambda: len(room.labs()) == 1, "bob's lab to end", show=room.log)

        terminals.press("alice", "q")
        wait_until(lambda: not terminals.alive("alice"), "alice's ssh to end")
        wait_until(lambda: room.labs() == [], "no lab left", show=room.log)
        assert room.process.poll() is None  # the classroom stays open


def test_nothing_but_the_lab_is_offered(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    stranger = new_key(tmp_path, "mallory")
    with SSHClassroom(tmp_path, runs, ("--authorized-keys", str(authorized))) as room:

        def run(command, **kwargs):
            return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, **kwargs)

        shell = run(room.ssh(key, "-o", "BatchMode=yes", command="cat /etc/passwd"))
        assert shell.returncode != 0 and "root:" not in shell.stdout
        assert "refused a command ('cat /etc/passwd')" in room.log()

        sftp = run(room.ssh(key, "-b", "-", "student@127.0.0.1", program="sftp"))
        assert sftp.returncode != 0 and "refused the sftp subsystem" in room.log()
        scp = run(room.ssh(key, "-O", "student@127.0.0.1:/etc/passwd", str(tmp_path / "copied"), program="scp"))
        assert scp.returncode != 0 and not (tmp_path / "copied").exists() and "refused a command ('scp -f /etc/passwd')" in room.log()

        remote = run(room.ssh(key, "-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:22"))
        assert remote.returncode != 0 and "refused remote port forwarding" in room.log()

        local_port = free_port()
        tunnel = subprocess.Popen(room.ssh(key, "-N", "-L", f"127.0.0.1:{local_port}:127.0.0.1:{room.port}"), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: _refused_through(local_port), "a connection through the tunnel to be closed")
            wait_until(lambda: "refused port forwarding to 127.0.0.1" in room.log(), "the forward to be refused", show=room.log)
        finally:
            kill_quietly(tunnel)

        wrong = run(room.ssh(stranger, "-o", "BatchMode=yes", command="true"))
        assert wrong.returncode == 255 and "Permission denied" in wrong.stderr
        assert "wrong key" in room.log()

        no_terminal = run(room.ssh(key, "-T", "-o", "BatchMode=yes"))
        assert no_terminal.returncode != 0 and "needs a terminal" in no_terminal.stdout + no_terminal.stderr

        assert room.process.poll() is None and room.labs() == []
        terminals.open("alice", room.ssh(key), 80, 24)  # and the classroom still serves
        terminals.wait_for("alice", runs_list, "the runs list after the refusals")
        terminals.press("alice", "q")
        wait_until(lambda: room.labs() == [], "no lab left")


def _refused_through(port: int) -> bool:
    """A connection to the tunnel's local end is accepted, then closed: the server refused it."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.settimeout(30)
            return sock.recv(100) == b""  # the server refused the forward: closed at once
    except OSError:
        return False


def test_the_classroom_password_and_the_attempt_limit(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    with SSHClassroom(tmp_path, runs) as room:  # no keys given: a password is drawn and printed
        assert room.password and len(room.password) >= 12
        guesser = room.ssh(None, "-o", "NumberOfPasswordPrompts=10")
        terminals.open("guesser", ["sh", "-c", " ".join(guesser) + "; echo SSH-EXITED-$?; sleep 600"], 80, 24)
        for attempt in range(6):
            terminals.wait_for("guesser", lambda s, n=attempt: s.lower().count("password:") >= n + 1, f"password prompt {attempt + 1}")
            terminals.type("guesser", f"wrong-{attempt}")
            terminals.press("guesser", "Enter")
        screen = terminals.wait_for("guesser", lambda s: "SSH-EXITED-255" in s, "the server to close the connection after six tries")
        assert "too many authentication attempts" in screen and "too many authentication attempts" in room.log()

        terminals.open("carol", room.ssh(None), 80, 24, env={"TERM": "xterm"})  # a 16-colour terminal
        terminals.wait_for("carol", lambda s: "password:" in s.lower(), "the password prompt")
        terminals.type("carol", room.password)
        terminals.press("carol", "Enter")
        terminals.wait_for("carol", runs_list, "the runs list")
        drawn = terminals.colours("carol")
        assert "\x1b[" in drawn and "38;5;" not in drawn and "48;5;" not in drawn  # colours its TERM allows
        terminals.press("carol", "q")
        wait_until(lambda: room.labs() == [], "no lab left")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--host", "0.0.0.0", "--no-auth"], "--no-auth: refused on --host 0.0.0.0"),
        (["--authorized-keys", "missing-file"], "--authorized-keys missing-file: cannot read it"),
        (["--host-key", "/proc/no/such/key"], "--host-key /proc/no/such/key: cannot write a new host key"),
    ],
)
def test_bad_classroom_options_are_one_line(tmp_path, args, message):
    tools_or_skip()
    (tmp_path / "runs").mkdir()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-m", "plastilab", "serve", "--ssh", "--watch", "runs", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.timeout(1200)
def test_twenty_students_watch_the_same_run_and_the_cap_holds(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    students = [f"student{i:02d}" for i in range(20)]
    with SSHClassroom(tmp_path, runs, ("--authorized-keys", str(authorized), "--max-sessions", "20")) as room:
        for name in students:
            terminals.open(name, room.ssh(key), 80, 24)
        for name in students:
            terminals.wait_for(name, runs_list, "the runs list", timeout=600)
            terminals.press(name, "Enter")
        for name in students:
            terminals.wait_for(name, shows_step(20), "the live run at step 20", timeout=600)
        assert len(room.labs()) == 20

        terminals.open("late", ["sh", "-c", " ".join(room.ssh(key)) + "; echo SSH-EXITED-$?; sleep 600"], 80, 24)
        screen = terminals.wait_for("late", lambda s: "SSH-EXITED" in s, "the 21st student to be told")
        assert "the classroom is full (20 students are watching)" in screen
        assert len(room.labs()) == 20

        tell(writer, "more")  # the run goes on: every student sees it
        for name in students:
            terminals.wait_for(name, shows_step(50), "the live run at step 50", timeout=600)


def test_sigterm_ends_every_session_and_leaves_no_process(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    room = SSHClassroom(tmp_path, runs, ("--authorized-keys", str(authorized))).start()
    try:
        for name in ("a", "b", "c"):
            terminals.open(name, room.ssh(key), 80, 24)
        for name in ("a", "b", "c"):
            terminals.wait_for(name, runs_list, "the runs list")
        labs = room.labs()
        assert len(labs) == 3
        tree = [room.process.pid, *descendants(room.process.pid)]
        room.process.send_signal(signal.SIGTERM)
        assert room.process.wait(timeout=120) == 0
        wait_until(lambda: all(gone(pid) for pid in tree), "every process of the classroom to end")
        for name in ("a", "b", "c"):
            wait_until(lambda n=name: not terminals.alive(n), f"{name}'s ssh to end")
        assert "stopping: ending 3 session(s)" in room.log()
    finally:
        room.stop()


def test_an_idle_session_ends(lesson):
    tmp_path, runs, writer, key, authorized, terminals = lesson
    with SSHClassroom(tmp_path, runs, ("--authorized-keys", str(authorized), "--idle-timeout", "3")) as room:
        terminals.open("sleepy", room.ssh(key), 80, 24)
        terminals.wait_for("sleepy", runs_list, "the runs list")  # then nothing is typed, nothing changes
        wait_until(lambda: not terminals.alive("sleepy"), "the idle session to end", show=room.log)
        assert "idle for 3 s; ending the session" in room.log()
        wait_until(lambda: room.labs() == [], "no lab left")
