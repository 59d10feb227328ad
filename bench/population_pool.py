"""The CLI half of bench_population.py: N whole agents through ``plastilab run``, as populations
against one agent per process on the local pool, on the same two cores.

Pool: a study of N trials (the falsification base, one seed each, instruments off) run by the
local pool with 2 worker processes, one agent per trial, as ``plastilab run STUDY`` runs it.
Populations: the same N agents as two ``plastilab run SCENARIO --seeds N/2 --set
training.population=on`` processes side by side (one per core, one torch thread each), seeds
0..N/2-1 and N/2..N-1. Both do N x ``steps`` agent-steps. The figure is agent-steps per
CPU-second of the whole process tree (``RUSAGE_CHILDREN``: interpreters, pool workers, data
loading, run folders), which other jobs on a shared machine do not tilt; wall time is reported
beside it with the load average, since on a busy machine it measures the neighbours too.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "scenarios" / "falsification-quick.toml"


def base_scenario(steps: int, quick: bool) -> dict:
    """The falsification study's base, instruments off, ``steps`` environment steps of which the
    last five sixths train (learning_starts = steps / 6)."""
    base = tomllib.loads(STUDY.read_text(encoding="utf-8"))["base"]
    # None at all: an absent table means the kind's default instruments (a probe at step 0 that
    # costs more than the whole run), which would measure the probe, not the agents.
    base["instruments"] = {}
    base["name"] = "population-bench"
    base["training"].update(total_steps=steps, log_every=max(steps // 6, 1))
    base["agents"]["mlp"]["learning_starts"] = steps // 6
    if quick:
        base["data"]["n_images"] = 500
        base["agents"]["mlp"].update(hidden=[16, 16], batch_size=8)
    return base


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "plastilab", "run", *args, "-q"]


def timed(commands: list[list[str]]) -> tuple[float, float]:
    """CPU seconds (the process trees, reaped) and wall seconds of ``commands`` run side by side."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    processes = [subprocess.Popen(c, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate() for p in processes]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for process, (_, err) in zip(processes, outputs):
        if process.returncode:
            tail = err.strip().splitlines()
            raise RuntimeError(f"{' '.join(process.args[3:6])}: exit {process.returncode}: {tail[-1] if tail else ''}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def pool_figures(n: int, steps: int, quick: bool = False) -> dict:
    """``speedup_vs_pool`` for N agents (and the numbers behind it)."""
    base = base_scenario(steps, quick)
    with tempfile.TemporaryDirectory(prefix="plastilab-population-bench-") as tmp:
        out = Path(tmp)
        scenario = out / "scenario.toml"
        scenario.write_text(tomli_w.dumps(base), encoding="utf-8")
        study = out / "study.toml"
        study.write_text(tomli_w.dumps({"kind": "study", "name": "pool-bench", "seeds": n, "workers": 2, "base": base}), encoding="utf-8")
        load = os.getloadavg()[0]
        pool_cpu, pool_wall = timed([cli(str(study), "--out", str(out / "pool"), "--workers", "2")])
        halves = [(0, n - n // 2), (n - n // 2, n // 2)]
        population = [
            cli(str(scenario), "--seed", str(first), "--seeds", str(count), "--set", "training.population='on'",
                "--out", str(out / f"population{first}"), "--threads", "1")
            for first, count in halves if count
        ]
        pop_cpu, pop_wall = timed(population)
        load = (load + os.getloadavg()[0]) / 2
    agent_steps = n * steps
    return {
        "speedup_vs_pool": pool_cpu / pop_cpu,
        "speedup_vs_pool_wall": pool_wall / pop_wall,
        "pool_agent_steps_per_cpu_second": agent_steps / pool_cpu,
        "population_agent_steps_per_cpu_second": agent_steps / pop_cpu,
        "pool_cpu_s": pool_cpu,
        "population_cpu_s": pop_cpu,
        "pool_wall_s": pool_wall,
        "population_wall_s": pop_wall,
        "pool_steps_per_agent": steps,
        "pool_load_average": load,
    }
