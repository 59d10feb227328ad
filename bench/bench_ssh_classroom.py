"""The SSH classroom's costs, as ratios against baselines measured in the same run.

  redraw   a key (m: the next metric) to its redraw on the student's screen, over SSH, against
           the same read-only lab in a local terminal: same size (80x24), same run, same tmux.
           Target: the SSH median within 1.5x of the local one.
  resize   the same for a window resize (80x24 <-> 120x40).
  follow   presenter mode: the teacher's screen showing a new metric to a following student's
           screen showing it. Target: within 1 s.
  cpu      the server and all its labs, with 20 students watching a live run that is not changing
           (idle-watching), in cores over a 30 s window; target: below one core.

It drives Debian's OpenSSH client in tmux, as the tests do (tests/ssh_helpers.py).

    .venv/bin/python bench/bench_ssh_classroom.py [--repeats 15] [--students 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_helpers import descendants  # noqa: E402
from plastilab.classroom.leader_state import LeaderView, write_view  # noqa: E402
from ssh_helpers import SSHClassroom, Terminals, kill_quietly, new_key, shows_step, start_writer, wait_until  # noqa: E402

RUN = "20250101-000000-aaaaaa"
METRICS = ("train/loss", "train/accuracy")


def until(condition, what: str, timeout: float = 60.0) -> None:
    """Poll as fast as tmux answers (a capture is a few ms): the timings' resolution."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def on_dashboard(terminals: Terminals, name: str) -> None:
    terminals.wait_for(name, lambda s: "adam-tiny" in s and "Open" in s, "the runs list")
    terminals.press(name, "Enter")
    terminals.wait_for(name, shows_step(20), "the run at step 20")


def key_to_redraw(terminals: Terminals, name: str, repeats: int) -> list[float]:
    """Seconds from pressing m to the curves' title naming the next metric."""
    times = []
    shown = next(m for m in METRICS if f"─ {m} ─" in terminals.screen(name))
    for _ in range(repeats):
        wanted = METRICS[(METRICS.index(shown) + 1) % len(METRICS)]
        start = time.perf_counter()
        terminals.press(name, "m")
        until(lambda: f"─ {wanted} ─" in terminals.screen(name), f"{wanted} on {name}")
        times.append(time.perf_counter() - start)
        shown = wanted
        time.sleep(0.3)  # let the lab settle: each sample starts from a quiet screen
    return times


def resize_to_redraw(terminals: Terminals, name: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):  # to the other size: 80x24 <-> 120x40
        columns, rows = (80, 24) if _drawn_at(terminals.screen(name), 120, 40) else (120, 40)
        start = time.perf_counter()
        terminals.resize(name, columns, rows)
        until(lambda: _drawn_at(terminals.screen(name), columns, rows), f"{columns}x{rows} on {name}")
        times.append(time.perf_counter() - start)
        time.sleep(0.3)
    return times


def _drawn_at(screen: str, columns: int, rows: int) -> bool:
    lines = screen.rstrip("\n").splitlines()
    return len(lines) >= rows - 1 and any(line.startswith("╭") and line.rstrip().endswith("╮") and len(line.rstrip()) == columns for line in lines)


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def cores_used(root_pid: int, window_s: float) -> tuple[float, float]:
    """(the whole tree, the server alone), in cores, over ``window_s``."""
    tree = [root_pid, *descendants(root_pid)]
    before_all, before_server, start = cpu_seconds(tree), cpu_seconds([root_pid]), time.monotonic()
    time.sleep(window_s)
    elapsed = time.monotonic() - start
    return (cpu_seconds(tree) - before_all) / elapsed, (cpu_seconds([root_pid]) - before_server) / elapsed


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:6.0f} ms  (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--window", type=float, default=30.0, help="seconds over which CPU is measured")
    parser.add_argument("--students-only", action="store_true", help="only the CPU with many students")
    parser.add_argument("--no-students", action="store_true", help="only the redraw and follow timings")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        runs = home / "runs"
        writer = start_writer(runs / "adam-tiny" / RUN, REPO / "scenarios" / "adam-tiny.toml")
        key = new_key(home, "student")
        (home / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
        terminals = Terminals(home)
        try:
            with SSHClassroom(home, runs, ("--authorized-keys", str(home / "authorized_keys"), "--follow")) as room:
                if not args.students_only:
                    timings(terminals, room, key, home, args.repeats)
                if not args.no_students:
                    students_cpu(terminals, room, key, runs, args.students, args.window)
        finally:
            terminals.end()
            kill_quietly(writer)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def timings(terminals: Terminals, room: SSHClassroom, key: Path, home: Path, repeats: int) -> None:
    """Key and resize to redraw, a local terminal against SSH; then presenter mode's latency."""
    terminals.open("local", ["sh", "-c", f"cd {home} && exec {sys.executable} -m plastilab watch runs"], 80, 24)
    terminals.open("remote", room.ssh(key), 80, 24)
    for name in ("local", "remote"):
        terminals.wait_for(name, lambda s: "adam-tiny" in s, "the runs list")
    terminals.press("remote", "b")  # browse freely: the bench's keys, not a leader, move it
    for name in ("local", "remote"):
        on_dashboard(terminals, name)
    for what, measure in (("key", key_to_redraw), ("resize", resize_to_redraw)):
        local, remote = [], []
        for _ in range(repeats):  # interleaved, one sample each: the machine's load drifts
            local += measure(terminals, "local", 1)
            remote += measure(terminals, "remote", 1)
        print(f"{what} to redraw, local terminal: {summary(local)}")
        print(f"{what} to redraw, over SSH:       {summary(remote)}")
        ratio = statistics.median(remote) / statistics.median(local)
        print(f"  ratio SSH / local: {ratio:.2f}  (target <= 1.5: {'ok' if ratio <= 1.5 else 'MISSED'})")
    terminals.close("local")
    terminals.close("remote")
    follow_latency(terminals, room, key, home, repeats)
    wait_until(lambda: room.labs() == [], "the labs to end")


def students_cpu(terminals: Terminals, room: SSHClassroom, key: Path, runs: Path, students: int, window: float) -> None:
    """CPU of the server and its labs while ``students`` watch the live run, which is not changing."""
    write_view(runs, LeaderView(f"adam-tiny/{RUN}", "values", "train/loss"))  # they follow it there
    for i in range(students):
        terminals.open(f"s{i}", room.ssh(key), 80, 24)
    for i in range(students):
        terminals.wait_for(f"s{i}", shows_step(20), "the teacher's run", timeout=900)
    time.sleep(3)  # the last dashboards' first redraws are done
    tree, server = cores_used(room.process.pid, window)
    print(f"{students} students idle-watching a live run: the server and its labs {tree:.3f} cores "
          f"(the SSH server alone {server:.3f}); target < 1 core: {'ok' if tree < 1 else 'MISSED'}")  # fmt: skip


def follow_latency(terminals: Terminals, room: SSHClassroom, key: Path, home: Path, repeats: int) -> None:
    """The teacher (watch --lead, local) changes metric; a following student's screen follows."""
    terminals.open("teacher", ["sh", "-c", f"cd {home} && exec {sys.executable} -m plastilab watch runs --lead"], 80, 24)
    terminals.open("follower", room.ssh(key), 80, 24)
    on_dashboard(terminals, "teacher")
    terminals.wait_for("follower", shows_step(20), "the teacher's run")
    times = []
    for _ in range(repeats):
        shown = next(m for m in METRICS if f"─ {m} ─" in terminals.screen("teacher"))
        wanted = METRICS[(METRICS.index(shown) + 1) % len(METRICS)]
        terminals.press("teacher", "m")
        until(lambda: f"─ {wanted} ─" in terminals.screen("teacher"), "the teacher's new metric")
        start = time.perf_counter()
        until(lambda: f"─ {wanted} ─" in terminals.screen("follower"), "the follower's new metric")
        times.append(time.perf_counter() - start)
        time.sleep(0.3)
    print(f"follow: teacher's screen to the follower's: {summary(times)}  (target <= 1 s: {'ok' if statistics.median(times) <= 1 else 'MISSED'})")
    terminals.close("teacher")
    terminals.close("follower")


if __name__ == "__main__":
    main()
