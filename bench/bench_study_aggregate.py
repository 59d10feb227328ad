"""A study's aggregation over 10,000 trial-checkpoints (target: under 5 s).

Builds a synthetic study folder: 1,000 finished trials (two axes × 10 seeds), each with 10 probe
checkpoints of 30 statistics plus the plasticity tag, as the workers leave them in checkpoints/.
Then times ``aggregate_study`` as ``plastilab report`` runs it: reading the ledger and every
checkpoint file, the tidy table (CSV), Pearson and Spearman r with 1,000-resample bootstrap
intervals for every statistic, per-axis means, summary.json. Wall and CPU seconds, best of 3.

    .venv/bin/python bench/bench_study_aggregate.py [--trials 1000] [--checkpoints 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import tomli_w

from plastilab.studies.aggregate import aggregate_study

N_STATS = 30


def build(root: Path, n_trials: int, n_checkpoints: int) -> Path:
    study_dir = root / "study"
    (study_dir / "checkpoints").mkdir(parents=True)
    n_lr = n_trials // 20
    study = {
        "kind": "study",
        "name": "bench",
        "seeds": 10,
        "axes": {"training.total_steps": list(range(100, 100 + n_lr)), "agents.mlp.optimizer": ["adam", "rmsprop"]},
        "analysis": {"kind": "falsification"},
        "base": {"kind": "block_mdp", "name": "bench-base"},
    }
    (study_dir / "study.toml").write_text(tomli_w.dumps(study))
    rng = np.random.default_rng(0)
    with open(study_dir / "trials.jsonl", "w") as ledger:
        for i in range(n_lr * 2 * 10):
            trial = f"t{i:03d}"
            ledger.write(json.dumps({"trial": trial, "state": "finished", "run_dir": f"trials/x/{trial}"}) + "\n")
            checkpoints = []
            for c in range(n_checkpoints):
                plasticity = float(rng.normal())
                values = {f"stat/s{k}": float(plasticity * k / N_STATS + rng.normal()) for k in range(N_STATS)}
                values["probe/plasticity_loss"] = plasticity
                checkpoints.append({"step": 1000 * (c + 1), "values": values})
            final = dict(checkpoints[-1]["values"], **{"td/loss": float(rng.random())})
            data = {"trial": trial, "target": "probe/plasticity_loss", "series": {"mlp/td": {"checkpoints": checkpoints, "final": final}}}
            (study_dir / "checkpoints" / f"{trial}.json").write_text(json.dumps(data))
    return study_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-study-"))
    try:
        study_dir = build(root, args.trials, args.checkpoints)
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            summary = aggregate_study(study_dir)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(f"aggregation: {summary['rows']} trial-checkpoints, {len(summary['correlations'])} statistics, "
              f"{summary['trials']} trials")
        print(f"  wall {best_wall:.2f} s, CPU {best_cpu:.2f} s (best of {args.repeats}); target < 5 s: "
              f"{'met' if best_wall < 5 else 'NOT met'}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
