"""What checkpointing costs: the shipped quick scenarios run with and without ``checkpoint_every``,
interleaved in one process and timed in CPU seconds of this process (another process on a shared
machine does not tilt the ratio), as a user runs them (driver, writer, instruments as shipped).
Prints each run's steps/s, the median ratio with/without (target >= 0.95 at the period printed),
one checkpoint's size and the time one save takes.

    .venv/bin/python bench/bench_checkpoint.py [--repeats 3] [--every 1000] [--only adam-quick]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from plastilab.core.scenario_file import load_scenario
from plastilab.runtime import checkpoint_save
from plastilab.runtime.launcher import launch

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CASES = {
    # file, overrides that keep a repeat to seconds
    "adam-quick": ("adam-quick.toml", ["device=cpu", "training.n_tasks=2"]),
    "block-mdp-aligned-quick": ("block-mdp-aligned-quick.toml", ["device=cpu", "training.total_steps=4000"]),
}


def timed_run(file: str, overrides: list[str], every: int, saves: list[float]) -> tuple[float, int, int]:
    """CPU seconds of one run, its steps, and its checkpoint's size in bytes (0: none)."""
    scenario = load_scenario(SCENARIOS / file, [*overrides, f"checkpoint_every={every}"])
    out = Path(tempfile.mkdtemp(prefix="bench-checkpoint-"))
    save = checkpoint_save.Checkpoints.save

    def timed_save(self, step, state):
        start = time.process_time()
        save(self, step, state)
        saves.append(time.process_time() - start)

    checkpoint_save.Checkpoints.save = timed_save
    try:
        start = time.process_time()
        launched = launch(scenario, out)
        seconds = time.process_time() - start
        path = launched.run_dir / checkpoint_save.CHECKPOINT
        size = path.stat().st_size if path.exists() else 0
    finally:
        checkpoint_save.Checkpoints.save = save
        shutil.rmtree(out, ignore_errors=True)
    assert launched.state == "finished", launched.end
    return seconds, scenario.config.total_steps(), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--every", type=int, default=1000, help="checkpoint_every of the runs with checkpoints")
    parser.add_argument("--only", choices=sorted(CASES), help="one scenario (default: each)")
    args = parser.parse_args()
    for name, (file, overrides) in CASES.items():
        if args.only and name != args.only:
            continue
        ratios, size, saves = [], 0, []
        timed_run(file, overrides, 0, [])  # warm up: imports, the dataset, torch's first kernels
        for _ in range(args.repeats):
            off, steps, _ = timed_run(file, overrides, 0, [])
            on, _, size = timed_run(file, overrides, args.every, saves)
            ratios.append(off / on)
            print(f"{name}: {steps / off:,.0f} steps/s without, {steps / on:,.0f} with checkpoint_every={args.every}", flush=True)
        print(
            f"{name}: median speed ratio with/without {statistics.median(ratios):.3f} (target >= 0.95); "
            f"checkpoint {size / 1e6:.2f} MB; one save {statistics.median(saves) * 1e3:.1f} ms CPU ({len(saves)} saves)",
            flush=True,
        )


if __name__ == "__main__":
    main()
