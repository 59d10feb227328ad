"""Dohare et al.'s (Nature 2024) permuted-MNIST result, checked on the numbers of a real run of
scenarios/permuted-mnist-quick.toml.

tests/data/streams-run/permuted-mnist-quick holds that run's scenario.toml, meta.json and
status.json as written, summary.json without its per-series tables, and the lines of its
metrics.jsonl with task/online_accuracy and task/final_accuracy (the rest is left out). It was
made on a 2-core CPU shared with other work (load about 12) with
`plastilab run scenarios/permuted-mnist-quick.toml` (three seeds, 503 s); rerun that and copy
those files to refresh it after a change to the stream or the file.

The reading is LoP's: the online accuracy of a task (each mini-batch predicted before its step),
averaged over the first and over the last WINDOW tasks of each seed; means and Student's t
intervals over the three seeds are computed here by hand. What the run shows, and the file's
comment says: plain backprop's accuracy declines from the first tasks to the last (the paired
interval of the decline excludes 0; the unpaired intervals of the two windows overlap by 0.001);
continual backprop holds it and ends above plain backprop by more than both intervals; LoP's L2
and shrink-and-perturb, at LoP's per-step coefficients, do not hold it at this scale.

PLASTILAB_SCIENCE=1 also reruns the quick file (about 8 CPU minutes) and checks the same story on it.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path

import pytest

RUN = Path(__file__).parents[1] / "data" / "streams-run" / "permuted-mnist-quick"
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "permuted-mnist-quick.toml"
T_975_DF2 = 4.302652729911275  # Student's t, 97.5% quantile, 2 degrees of freedom (three seeds)
WINDOW = 10  # tasks at each end (the file's ranking window)
TAG = "task/online_accuracy"


def per_seed(run: Path, tag: str = TAG) -> dict[str, list[list[float]]]:
    """combination -> one list of per-task values per seed, in task order."""
    points: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["tag"] == tag:
            points[record["series"]].append((record["step"], record["value"]))
    out: dict[str, list[list[float]]] = defaultdict(list)
    for series, series_points in sorted(points.items()):
        out[series.rsplit("/s", 1)[0]].append([v for _, v in sorted(series_points)])
    return out


def interval(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T_975_DF2 * sd / math.sqrt(n)


def first(runs: list[list[float]]) -> list[float]:
    return [sum(r[:WINDOW]) / WINDOW for r in runs]


def last(runs: list[list[float]]) -> list[float]:
    return [sum(r[-WINDOW:]) / WINDOW for r in runs]


def check_the_story(run: Path) -> None:
    acc = per_seed(run)
    assert sorted(acc) == ["mlp+continual_backprop", "mlp+none", "mlp+shrink_and_perturb", "mlp+weight_decay"]
    assert all(len(runs) == 3 and all(len(r) == 50 for r in runs) for runs in acc.values())

    # Plain backprop declines: its per-seed decline (first tasks − last tasks) is above 0 by more
    # than its interval.
    decline, half = interval([a - b for a, b in zip(first(acc["mlp+none"]), last(acc["mlp+none"]))])
    assert decline - half > 0

    # Continual backprop holds it: no decline beyond its interval, and over the last tasks it is
    # above plain backprop by more than both intervals together.
    cbp_decline, cbp_half = interval([a - b for a, b in zip(first(acc["mlp+continual_backprop"]), last(acc["mlp+continual_backprop"]))])
    assert cbp_decline - cbp_half < 0
    cbp, cbp_last_half = interval(last(acc["mlp+continual_backprop"]))
    none, none_last_half = interval(last(acc["mlp+none"]))
    assert cbp - none > cbp_last_half + none_last_half

    # What does not reproduce here (the file's comment says so): L2 and shrink-and-perturb at
    # LoP's per-step coefficients end within the intervals of plain backprop.
    for method in ("mlp+weight_decay", "mlp+shrink_and_perturb"):
        other, other_half = interval(last(acc[method]))
        assert abs(other - none) < other_half + none_last_half, method


def test_the_recorded_run_finished_three_seeds_of_four_methods():
    assert json.loads((RUN / "status.json").read_text())["state"] == "finished"
    finals = per_seed(RUN, "task/final_accuracy")
    assert all(len(runs) == 3 and all(len(r) == 50 and all(0 <= v <= 1 for v in r) for r in runs) for runs in finals.values())


def test_the_recorded_run_tells_lops_story_for_backprop_and_continual_backprop():
    check_the_story(RUN)


@pytest.mark.skipif(os.environ.get("PLASTILAB_SCIENCE") != "1", reason="reruns the quick file: about 8 CPU minutes; PLASTILAB_SCIENCE=1 runs it")
def test_a_fresh_run_of_the_quick_file_tells_the_same_story(tmp_path):
    from plastilab.core.driver import drive
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir import layout
    from plastilab.rundir.writer import RunFolderWriter

    scenario = load_scenario(SCENARIO)
    run_dir = layout.new_run_dir(scenario.name, tmp_path)
    drive(scenario, [RunFolderWriter(run_dir, scenario, command=["test"])], run_dir=str(run_dir))
    check_the_story(run_dir)
