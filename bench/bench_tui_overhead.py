"""Training speed with the lab open and drawing, over the same run headless, back to back.

Both runs happen in a real pseudo-terminal (120x40): ``plastilab run`` with its live progress,
and the lab, which launches the same scenario into its training process and draws the dashboard
until the run ends. Steps per second come from each run folder's metrics.jsonl (wall time of the
first logged step to the last), so start-up is left out of both. The scenario is adam-quick,
shortened with overrides to keep the benchmark near two minutes. Target: ratio >= 0.90.

    .venv/bin/python bench/bench_tui_overhead.py [--tasks 2] [--steps-per-task 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "scenarios" / "adam-quick.toml"
SIZE = (40, 120)  # rows, columns


def run_in_pty(argv: list[str], timeout: float = 600.0) -> tuple[int, int]:
    """Run ``argv`` on a fresh pseudo-terminal, reading (and dropping) all it draws.

    Returns (exit status, bytes drawn); ``run_in_pty.cpu`` holds the CPU seconds it used."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec, so nothing of this process leaks in
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(SIZE[1]), LINES=str(SIZE[0]))
        os.execve(sys.executable, [sys.executable, *argv], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    drawn = 0
    tail = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += len(chunk)
            tail = (tail + chunk)[-4000:]
            if b"\x1b[6n" in chunk:  # a cursor-position query: answer like a terminal would
                os.write(fd, b"\x1b[1;1R")
    else:
        os.kill(pid, 9)
    _, status, usage = os.wait4(pid, 0)
    run_in_pty.cpu = usage.ru_utime + usage.ru_stime
    os.close(fd)
    run_in_pty.last_output = tail.decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), drawn


def steps_per_second(run_dir: Path) -> tuple[float, int]:
    first = last = None
    series = None
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["tag"] != "train/loss":
            continue
        series = series or record["series"]
        if record["series"] != series:
            continue
        point = (record["step"], record["wall_time"])
        first = first or point
        last = point
    return (last[0] - first[0]) / (last[1] - first[1]), last[0]


def newest_run(root: Path) -> Path:
    runs = sorted(root.glob("*/*/metrics.jsonl"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent


def headless(overrides: list[str], out: Path) -> tuple[Path, float]:
    sets = [arg for o in overrides for arg in ("--set", o)]
    code, _ = run_in_pty(["-m", "plastilab", "run", str(QUICK), *sets, "--device", "cpu", "--out", str(out)])
    if code != 0:
        raise SystemExit(f"headless run failed with exit code {code}:\n{run_in_pty.last_output}")
    return newest_run(out), run_in_pty.cpu


def with_app(overrides: list[str], out: Path) -> tuple[Path, dict]:
    result = out / "app-result.json"
    code, drawn = run_in_pty([__file__, "--app-child", str(out), str(result), *overrides])
    if code != 0 or not result.is_file():
        raise SystemExit(f"the lab's run failed (exit code {code}); it last drew:\n{run_in_pty.last_output}")
    info = json.loads(result.read_text())
    info["bytes_drawn"] = drawn
    return Path(info["run_dir"]), info


def app_child(out: str, result: str, overrides: list[str]) -> None:
    """In the pty: open the lab, launch the scenario, draw until it ends, write what happened."""
    from plastilab.tui.app import PlastilabApp
    from plastilab.tui.messages import LaunchRequest
    from plastilab.tui.screens.dashboard import DashboardScreen

    class BenchApp(PlastilabApp):
        def on_mount(self) -> None:
            super().on_mount()  # the picker
            self.call_after_refresh(self.go)

        def go(self) -> None:
            self.started = time.monotonic()
            self.cpu_started = time.process_time()
            self.session = self.launch(LaunchRequest(QUICK, overrides, "cpu"))
            self.set_interval(0.5, self.check_done)

        def check_done(self) -> None:
            session = self.session
            if session.state.ended and not session.process.is_alive():
                screen = self.screen
                if not isinstance(screen, DashboardScreen):
                    raise RuntimeError(f"the dashboard is not on top: {screen}")
                redraws = screen.redraw_count
                Path(result).write_text(
                    json.dumps(
                        {
                            "run_dir": session.state.run_dir,
                            "state": session.state.state,
                            "redraws": redraws,
                            "seconds": time.monotonic() - self.started,
                            "ui_cpu_seconds": time.process_time() - self.cpu_started,
                            "training_cpu_seconds": _children_cpu(),
                        }
                    )
                )
                self.exit()

    BenchApp(scenarios_dirs=[QUICK.parent], runs_root=Path(out)).run()


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--app-child":
        app_child(sys.argv[2], sys.argv[3], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--steps-per-task", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    overrides = [f"training.n_tasks={args.tasks}", f"training.steps_per_task={args.steps_per_task}"]
    print(f"adam-quick with {' '.join(overrides)}, {os.cpu_count()} CPUs, terminal {SIZE[1]}x{SIZE[0]}")
    ratios, cpu_ratios = [], []
    with tempfile.TemporaryDirectory(prefix="plastilab-bench-") as tmp:
        for i in range(args.repeats):
            root = Path(tmp) / str(i)
            headless_dir, headless_cpu = headless(overrides, root / "headless")
            plain, steps = steps_per_second(headless_dir)
            run_dir, info = with_app(overrides, root / "app")
            lab, _ = steps_per_second(run_dir)
            draws = info["redraws"] / info["seconds"]
            ratios.append(lab / plain)
            cpu_ratios.append(headless_cpu / info["training_cpu_seconds"])
            print(
                f"repeat {i + 1}: headless {plain:6.1f} steps/s   lab open {lab:6.1f} steps/s   "
                f"ratio {lab / plain:.3f}   (CPU seconds for the same run: headless {headless_cpu:.1f}, "
                f"lab's training process {info['training_cpu_seconds']:.1f}; {steps} steps; the lab redrew {info['redraws']} times, "
                f"{draws:.1f}/s, {info['bytes_drawn'] / 1e6:.1f} MB to the terminal, "
                f"the lab's own process used {100 * info['ui_cpu_seconds'] / info['seconds']:.0f}% of a core)"
            )
    print(f"median ratio lab/headless: {statistics.median(ratios):.3f} (target >= 0.90)")
    print(
        f"median ratio of CPU seconds, headless / lab's training process: {statistics.median(cpu_ratios):.3f} "
        "(the work the lab adds to training itself, whatever else shares the machine)"
    )


if __name__ == "__main__":
    main()
