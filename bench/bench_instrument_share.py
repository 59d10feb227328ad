"""Where a falsification-style population run's CPU time goes: training or the instruments.

Issue 25 asks for the instruments batched across a population "where it pays". Two figures
decide where it would:

  share     the falsification study's agent (scenarios/falsification-quick.toml's base block:
            784-256-256-4 MLP, class_aligned, every instrument every 2,500 steps) over ``--seeds``
            seeds trained as one population for ``--steps`` steps, in this process; the CPU time
            of each instrument's ``measure`` (and of the probe's baseline at step 0) as a share
            of the whole run's;
  stacking  the probe on that network with N agents' K = 4 targets stacked as N*K copies (what
            a probe batched across N agents would run, one forward and backward for all), per
            agent against one agent's K = 4: the most batching the probe across agents could give.

Measured twice (1 torch thread, CPU time, load 5-11, 4 seeds, 5,000 steps: checkpoints at 0,
2,500, 5,000): the run 70.8 / 79.6 s; the probe 17.3 / 17.0 % plus its baseline 10.7 / 9.6 %, the
Hessian 4.8 / 4.6 %, the gradient covariance 3.4 / 3.2 %, the unit/weight statistics 0.1 / 0.2 %.
Probe stacking per agent: 1.11-1.20x at N = 4, 1.21-1.26x at N = 8 (the probe's matmuls are
already K wide and compute-bound on a CPU). So on the CPU a batched probe would save about 3-5 % of such a run
and a batched Hessian (Lanczos over vmapped products) at most the Hessian's 4.8 %.

    .venv/bin/python bench/bench_instrument_share.py [--seeds 4] [--steps 5000] [--no-share] [--no-stacking]
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time
import tomllib
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENTS = ("stats", "probe", "hessian", "covariance")


def base_scenario(seeds: int, steps: int, folder: Path) -> Path:
    """falsification-quick.toml's [base] block as a scenario of its own, ``seeds`` seeds, ``steps`` steps."""
    text = (ROOT / "scenarios" / "falsification-quick.toml").read_text()
    base = tomllib.loads(text)["base"]
    base["training"]["total_steps"] = steps
    lines = [f"seeds = {seeds}"]

    def write(table: dict, prefix: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {toml_value(v)}" for k, v in scalars.items())
        for k, v in table.items():
            if isinstance(v, dict):
                write(v, f"{prefix}.{k}" if prefix else k)

    write(base, "")
    path = folder / "falsification-base.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def share(seeds: int, steps: int) -> None:
    import plastilab.instruments.suite as suite
    from plastilab.core.scenario_file import load_scenario
    from plastilab.instruments import registry
    from plastilab.runtime.launcher import launch

    spent: collections.Counter = collections.Counter()

    def timed(function, label):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start

        return wrapper

    for name in INSTRUMENTS:
        cls = registry.instrument_class(name)
        cls.measure = timed(cls.measure, name)
    suite.InstrumentSuite.start = timed(suite.InstrumentSuite.start, "probe baseline at step 0 (suite.start)")
    with tempfile.TemporaryDirectory() as folder:
        scenario = load_scenario(base_scenario(seeds, steps, Path(folder)))
        start = time.process_time()
        end = launch(scenario, Path(folder) / "runs", threads=1, command=["bench"])
        total = time.process_time() - start
    print(f"share: {seeds} seeds x {steps} steps as one population, {end.state}: {total:.1f} s CPU")
    for label, seconds in spent.most_common():
        print(f"  {label:40s} {seconds:6.1f} s  {100 * seconds / total:5.1f} %")


def stacking(agents: tuple[int, ...]) -> None:
    from torch import nn

    from plastilab.instruments.plasticity_probe import ConfiguredProbe
    from plastilab.instruments.schema import ProbeConfig

    torch.manual_seed(0)
    network = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4))
    inputs = torch.rand(5000, 1, 28, 28)
    alone = None
    for n in agents:
        config = ProbeConfig(every=2500, family="high_frequency", frequency=10.0, offset=0.0, n_targets=4 * n, probe_steps=200, n_examples=512)
        probe = ConfiguredProbe(inputs, config, seed=0)
        probe.measure(network)  # draws the targets once
        seconds = []
        for _ in range(3):
            start = time.process_time()
            probe.measure(network)
            seconds.append(time.process_time() - start)
        per_agent = min(seconds) / n
        alone = alone or per_agent
        print(f"stacking: {n} agents' 4 targets as {4 * n} copies: {min(seconds):6.2f} s, per agent {per_agent:5.2f} s, {alone / per_agent:4.2f}x one agent's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 4, 8], help="stacking: agents stacked (the first is the reference)")
    parser.add_argument("--no-share", action="store_true")
    parser.add_argument("--no-stacking", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"1 torch thread, CPU time of this process; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.no_stacking:
        stacking(tuple(args.agents))
    if not args.no_share:
        share(args.seeds, args.steps)


if __name__ == "__main__":
    main()
