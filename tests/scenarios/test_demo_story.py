"""The default demo's story, checked on the numbers a real `make demo` run wrote.

tests/data/demo-run/adam-quick holds that run's scenario.toml, meta.json, status.json and
summary.json as written, and the lines of its metrics.jsonl with the probe's plasticity tags and
the task tags (the rest of the 4 MB file is left out). It was made on a 2-core CPU with
`plastilab run scenarios/adam-quick.toml` (five seeds); rerun that and copy those files to
refresh it after a change to the demo. Exact values differ between CPUs; the comparisons below
are what the README promises, with the margins taken from the run's own spread over seeds.

Expected values are computed here by hand from metrics.jsonl (mean and Student's t interval with
the tabulated quantile), never with plastilab's own aggregation, which is checked against them.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import pytest

RUN = Path(__file__).parents[1] / "data" / "demo-run" / "adam-quick"
T_975_DF4 = 2.7764451051977987  # Student's t, 97.5% quantile, 4 degrees of freedom (five seeds)
FIXED = ("adam-beta2", "adam-beta2-eps", "sgd")


def by_variant(tag: str, pick) -> dict[str, list[float]]:
    """variant -> one value per seed: ``pick`` chooses among a series' (step, value) points."""
    points: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for line in (RUN / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["tag"] == tag:
            points[record["series"]].append((record["step"], record["value"]))
    values: dict[str, list[float]] = defaultdict(list)
    for series, series_points in sorted(points.items()):
        variant, seed = series.rsplit("/s", 1)
        values[variant].append(pick(sorted(series_points)))
    return values


def interval(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T_975_DF4 * sd / math.sqrt(n)


def test_the_demo_ran_five_seeds_of_four_variants_to_the_end():
    assert json.loads((RUN / "status.json").read_text())["state"] == "finished"
    finals = by_variant("task/final_loss", lambda p: p[-1][1])
    assert sorted(finals) == sorted(("adam-default", *FIXED))
    assert all(len(v) == 5 for v in finals.values())


@pytest.mark.parametrize("task", [3, 4])  # tasks 4 and 5, counted from 0
def test_default_adam_stops_fitting_late_tasks_beyond_the_intervals(task):
    losses = by_variant("task/final_loss", lambda p: p[task][1])
    default_mean, default_half = interval(losses["adam-default"])
    best_mean, best_half = interval(losses["adam-beta2"])
    # The gap is larger than both intervals together: the story holds on the mean over seeds.
    assert default_mean - best_mean > default_half + best_half
    assert default_mean > 0.75 * math.log(10) * (0.8 if task == 3 else 1.0)  # near chance, ln 10
    assert best_mean < 0.1


def test_the_probe_agrees_with_the_task_losses():
    """Issue: a probe that scores a collapsed network as *more* plastic reads backwards. At the
    last checkpoint, averaged over seeds, default Adam has the largest scale-free plasticity
    loss, larger than the best fixed variant's by more than both intervals."""
    plasticity = by_variant("probe/plasticity_loss", lambda p: p[-1][1])
    late = by_variant("task/final_loss", lambda p: p[-1][1])
    best = min(FIXED, key=lambda v: sum(late[v]) / len(late[v]))
    assert best == "adam-beta2"
    default_mean, default_half = interval(plasticity["adam-default"])
    best_mean, best_half = interval(plasticity[best])
    assert default_mean - best_mean > default_half + best_half
    assert default_mean == max(interval(plasticity[v])[0] for v in plasticity)
    assert 0.5 < default_mean <= 1.05  # scale-free: 1.0 is no better than a uniform guess


def test_summary_groups_match_the_hand_computed_intervals():
    summary = json.loads((RUN / "summary.json").read_text())
    assert "t interval" in summary["interval_method"]
    losses = by_variant("task/final_loss", lambda p: p[-1][1])
    for variant, values in losses.items():
        mean, half = interval(values)
        group = summary["groups"][variant]
        assert group["n_seeds"] == 5
        written = group["per_task"]["task/final_loss"][-1]
        assert written["mean"] == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert written["half_width"] == pytest.approx(half, rel=1e-6, abs=1e-12)
