"""Four equal trials: one after another in this process, on the local pool, and on a local Ray.

Sequential is the baseline (the trials run back to back through the same ``run_trial`` a worker
calls); the pool and Ray run the same study with as many workers as cores (2 here), start-up
included: spawning the workers and their torch import for the pool, ``ray.init`` too for Ray
(also printed on its own). Targets: pool >= 1.7x sequential on an idle 2-core machine; Ray
>= 0.9x the pool. On a machine other processes load, the ratios shrink towards 1: say so.

    .venv/bin/python bench/bench_study_executors.py [--steps 24000] [--workers 2] [--no-ray]

Trials of 24,000 steps take ~15 s each on this CPU: a worker's spawn and torch import (~2 s) and
Ray's start-up are paid once per study, so trials of 3,000 steps (2.5 s) measure start-up rather
than the executor (idle, 2 cores: 1.44x at 3,000 steps, 1.78x at 12,000, 1.88x at 24,000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from plastilab.studies.executors import default_workers
from plastilab.studies.folder import new_study_dir
from plastilab.studies.runner import run_study
from plastilab.studies.study_file import load_study_plan, trial_source
from plastilab.studies.trial import run_trial

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "block-mdp-tiny.toml"


def make_study(root: Path, steps: int):
    path = root / "bench.toml"
    path.write_text(f'kind = "study"\nname = "bench"\nbase = "{TINY}"\nseeds = 4\n[analysis]\nkind = "falsification"\n')
    settings = [f"training.total_steps={steps}", f"instruments.probe.every={steps // 2}", f"instruments.stats.every={steps // 2}",
                "instruments.hessian.every=0", "instruments.covariance.every=0", "training.brownian=false"]
    return load_study_plan(path, settings)


def sequential(study, root: Path) -> float:
    study_dir = new_study_dir(study, root / "sequential")
    start = time.perf_counter()
    for trial in study.trials:
        job = {"trial": trial.id, "scenario": trial.scenario, "source": trial_source(study, trial),
               "study_dir": str(study_dir), "target": "probe/plasticity_loss", "command": ["bench"]}
        assert run_trial(job)["state"] == "finished"
    return time.perf_counter() - start


def on_executor(study, root: Path, name: str, workers: int) -> float:
    study_dir = new_study_dir(study, root / name)
    start = time.perf_counter()
    # One trial a job, as the sequential baseline runs them: this measures the executor, not
    # how fast a population trains (the population benchmarks measure that).
    outcome = run_study(study, study_dir, executor_name=name, workers=workers, quiet=True, population_size=1)
    assert outcome.counts == {"finished": 4}, outcome.counts
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    try:
        study = make_study(root, args.steps)
        load = os.getloadavg()[0]
        t_seq = sequential(study, root)
        t_pool = on_executor(study, root, "local", args.workers)
        print(f"4 trials of {args.steps} steps, {args.workers} workers, load average {load:.1f} at start")
        print(f"  sequential {t_seq:.1f} s   local pool {t_pool:.1f} s   pool speed-up {t_seq / t_pool:.2f}x (target >= 1.7x idle)")
        if not args.no_ray:
            import ray

            start = time.perf_counter()
            ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
            t_init = time.perf_counter() - start
            t_ray = on_executor(study, root, "ray", args.workers) + t_init
            ray.shutdown()
            print(f"  Ray local {t_ray:.1f} s (ray.init {t_init:.1f} s included)   Ray / pool speed {t_pool / t_ray:.2f}x (target >= 0.9x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
