"""One prepared script for a lent GPU (under 8 minutes): every scenario kind's timing run (its
quick file for a fixed number of steps, as the kind declares it) on the device and on the CPU
(steps/s, and the ratio), the probe, seeds, population and Hessian benches on the device, and a
check that the device and the CPU agree on the first logged losses of the same seed. Prints one table.

    .venv/bin/python bench/gpu_suite.py                      # on the GPU machine: --device cuda
    .venv/bin/python bench/gpu_suite.py --device cpu --quick # the script itself, in seconds

Steps/s are series-steps per wall second with the device synchronised at each logged step
(StepClock); the CPU side uses one torch thread, as ``plastilab run`` does. About 80 s of CPU
runs, 100 s at most for each of the four benches. Each sub-bench runs in its own process
with a time limit; one that fails or runs out of time says so in the table.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from plastilab.core.events import Scalars
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.core.smoke import smoke_scenario
from plastilab.runtime.launcher import launch

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"


class StepClock:
    """Series-steps per wall second between the first and the last logged step (the device
    synchronised): each series' steps from its first to its last log, added up, so kinds whose
    series run one after another (steps restart) and kinds that step them together both count."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.first: float | None = None
        self.last = 0.0
        self.steps: dict[str, tuple[int, int]] = {}

    def handle(self, event) -> None:
        if isinstance(event, Scalars) and event.step > 0:
            if self.device.startswith("cuda"):
                torch.cuda.synchronize()
            now = time.perf_counter()
            self.first = now if self.first is None else self.first
            self.last = now
            first_step, _ = self.steps.get(event.series, (event.step, event.step))
            self.steps[event.series] = (first_step, event.step)

    def rate(self) -> float:
        steps = sum(last - first for first, last in self.steps.values())
        seconds = self.last - (self.first or self.last)
        return steps / seconds if seconds > 0 and steps > 0 else math.nan


def run_kind(kind: str, device: str, quick: bool, out: Path):
    """The kind's timing run (a fixed number of steps of its quick file), or with ``quick`` its
    smoke run, on ``device``: the run and its series-steps per second."""
    scenario = smoke_scenario(SCENARIO_KINDS[kind], [f"device={device}"], timing=not quick)
    clock = StepClock(device)
    launched = launch(scenario, out / device, consumers=[clock])
    return launched, clock.rate()


def timing_goal(kind: str) -> str:
    """The speed-up the kind's timing run aims for, as the kind declares it ("" for none)."""
    timing = SCENARIO_KINDS[kind].timing
    return timing.goal if timing is not None else ""


def first_losses(run_dir: Path, n_steps: int = 2) -> dict[tuple[str, str, int], float]:
    tags = ("train/loss", "td/loss", "task/final_loss")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    rows = [r for r in rows if r["tag"] in tags and r["value"] is not None]
    steps = sorted({r["step"] for r in rows})[:n_steps]
    return {(r["series"], r["tag"], r["step"]): r["value"] for r in rows if r["step"] in steps}


def agreement(gpu_dir: Path, cpu_dir: Path) -> str:
    """The largest relative difference of the first logged losses (same seed, same batches)."""
    gpu, cpu = first_losses(gpu_dir), first_losses(cpu_dir)
    shared = [k for k in cpu if k in gpu]
    if not shared:
        return "no shared losses"
    worst = max(abs(gpu[k] - cpu[k]) / max(abs(cpu[k]), 1e-6) for k in shared)
    return f"{'ok' if worst < 1e-2 else 'DIFFERS'} (max rel diff {worst:.1e} over {len(shared)})"


def sub_bench(name: str, args: list[str], limit: float) -> str:
    """The last lines of a bench run in its own process (its summary), or why there are none."""
    path = BENCH / name
    if not path.exists():
        return "not present"
    try:
        done = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=limit, cwd=REPO)
    except subprocess.TimeoutExpired:
        return f"ran out of its {limit:.0f} s"
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()
        return f"failed (exit {done.returncode}): {tail[-1] if tail else ''}"
    return "\n".join(done.stdout.strip().splitlines()[-6:])  # its summary: the last lines it printed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, measures nothing")
    parser.add_argument("--no-benches", action="store_true", help="skip the probe, seeds and Hessian benches")
    args = parser.parse_args()
    started = time.perf_counter()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="plastilab-gpu-suite-") as tmp:
        out = Path(tmp)
        for kind in SCENARIO_KINDS:
            try:
                device_run, device_rate = run_kind(kind, args.device, args.quick, out / kind)
                cpu_run, cpu_rate = run_kind(kind, "cpu", args.quick, out / kind)
            except Exception as exc:  # one kind failing must not hide the others' rows
                rows.append((f"{kind}: timing run", "failed", f"{type(exc).__name__}: {exc}", ""))
                continue
            if device_run.state != "finished" or cpu_run.state != "finished":
                ends = f"{args.device}: {device_run.state}, cpu: {cpu_run.state} {getattr(device_run.end, 'error', '')}"
                rows.append((f"{kind}: timing run", "failed", ends, ""))
                continue
            ratio = device_rate / cpu_rate if cpu_rate else math.nan
            rows.append((f"{kind}: steps/s", f"{device_rate:.0f} vs cpu {cpu_rate:.0f} series-steps/s", f"{ratio:.2f}x", timing_goal(kind)))
            rows.append((f"{kind}: first losses:", agreement(device_run.run_dir, cpu_run.run_dir), "", "same seed, same batches"))
        if not args.no_benches:
            d = ["--device", args.device]
            small = args.quick
            benches = [
                ("probe K=8 batched", "bench_probe_batched.py", d + (["--k", "2", "--steps", "5", "--examples", "64", "--repeats", "1"] if small else []), "goal >= 3x"),
                ("seeds N=8 stacked", "bench_seeds_batched.py", d + (["--seeds", "2", "--steps", "30", "--repeats", "1"] if small else []), "goal >= 3x"),
                # The population's train step on the device (the pool comparison is the CPU's: --no-pool)
                ("population N=32, 128", "bench_population.py", d + ["--no-pool"] + (["--quick"] if small else ["--agents", "32", "128", "--repeats", "3"]),
                 "goals at N=32: flop_fraction >= 0.4, dispatch_ratio <= 1.2/N"),
                # Block-MDP DQN agents as a population against one agent alone (agent-steps/s)
                ("DQN population N=8, 32", "bench_dqn_population.py", d + (["--agents", "3", "--steps", "20", "--repeats", "1"] if small else ["--agents", "8", "32", "--repeats", "3"]),
                 "goal >= 2x at N=32"),
            ]
            # The PyHessian comparison trains its model and takes minutes on a CPU: --quick checks
            # the suite itself with the small density bench instead.
            if (BENCH / "bench_hessian_vs_pyhessian.py").exists() and not small:
                benches.append(("hessian vs PyHessian", "bench_hessian_vs_pyhessian.py", d, "goal >= 2x"))
            else:
                benches.append(("hessian density", "bench_hessian_density.py", d + (["--starts", "1", "--iterations", "3", "--batch", "32", "--repeats", "1"] if small else []), "goal >= 2x"))
            for label, name, bench_args, goal in benches:
                # --quick on a busy CPU: a tiny bench still waits its turn for a core (the density
                # bench took over 60 s at load 11); on the GPU each must fit its 100 s
                rows.append((label, sub_bench(name, bench_args, limit=150 if small else 100), "", goal))
    width = max(len(r[0]) for r in rows)
    print(f"\nGPU suite on {args.device}{' (quick)' if args.quick else ''}, torch {torch.__version__}"
          + (f", {torch.cuda.get_device_name()}" if args.device.startswith("cuda") else ""))
    for what, measured, ratio, note in rows:
        first, *more = measured.splitlines() or [""]
        print(f"  {what:{width}s}  {first:44s} {ratio:8s} {note}")
        for line in more:  # a bench's own summary lines, indented under its row
            print(f"  {'':{width}s}    {line}")
    print(f"  total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
