"""LoP's headline on the slowly-changing regression problem, checked on the numbers of recorded runs
(as tests/test_demo_story.py does) and, with PLASTILAB_SCIENCE=1, on a fresh run.

tests/data/slowly-changing-regression/ holds, for each recorded run, its scenario.toml and the
train/loss and task/final_loss lines of its metrics.jsonl (train/loss, logged every T steps, is
LoP's online squared error binned per task):
- quick/: `plastilab run scenarios/slowly-changing-regression-quick.toml` (3 seeds, 3e4 examples);
- scale/: the paper file cut to 30 tasks (3e5 examples), plain backprop and continual backprop,
  one seed a process: `plastilab run scenarios/slowly-changing-regression-paper.toml --seed S
  --seeds 1 --set task.n_iterations=30 --set 'grid.interventions=["none","continual_backprop"]'`
  for S = 0, 1, 2, the three metrics files joined. Plain backprop's series ran to the end;
  continual backprop's were stopped after 15 of their 30 tasks (s0 16) when the session's time ran out
  (the machine's load was 13–21 on 2 cores: ~50–100 steps a second a process).
Both on a 2-core CPU under load. Expected values are computed here by hand (mean and Student's t
interval with the tabulated quantile over seeds), never with plastilab's aggregation.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

RUNS = Path(__file__).parents[1] / "data" / "slowly-changing-regression"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
T_975 = {2: 12.706204736174705, 3: 4.302652729911275, 4: 3.182446305284263, 5: 2.7764451051977987}  # by number of seeds
WINDOW = 10  # bins averaged at the start and at the end of a stream


def bins(metrics: Path, tag: str = "train/loss") -> dict[str, dict[int, list[float]]]:
    """combination -> seed -> the tag's values in step order."""
    points: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for line in metrics.read_text().splitlines():
        record = json.loads(line)
        if record["tag"] == tag:
            points[record["series"]].append((record["step"], record["value"]))
    out: dict[str, dict[int, list[float]]] = defaultdict(dict)
    for series, series_points in points.items():
        name, seed = series.rsplit("/s", 1)
        out[name.removeprefix("mlp+")][int(seed)] = [v for _, v in sorted(series_points)]
    return out


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% Student's t interval over seeds."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T_975[n] * sd / math.sqrt(n)


def early(values: list[float], window: int = WINDOW) -> float:
    return sum(values[:window]) / window


def late(values: list[float], window: int = WINDOW) -> float:
    return sum(values[-window:]) / window


def check_plain_backprop_loses_plasticity(none: dict[int, list[float]], window: int = WINDOW) -> None:
    """Plain backprop's error grows over the stream: its late-minus-early error, seed by seed,
    has a 95% interval above zero."""
    assert len(none) >= 3
    growth, half = interval([late(none[s], window) - early(none[s], window) for s in sorted(none)])
    assert growth - half > 0, (growth, half)


def check_continual_backprop_keeps_it(none: dict[int, list[float]], cbp: dict[int, list[float]], window: int = WINDOW) -> None:
    """Continual backprop keeps the error lower late in the stream: none's late error minus
    its, seed by seed (the same seed gives both the same target, stream and initial network),
    has a 95% interval above zero."""
    assert sorted(none) == sorted(cbp) and len(none) >= 3
    gap, half = interval([late(none[s], window) - late(cbp[s], window) for s in sorted(none)])
    assert gap - half > 0, (gap, half)


def test_the_recorded_runs_are_complete():
    quick = bins(RUNS / "quick" / "metrics.jsonl")
    assert sorted(quick) == ["continual_backprop", "none", "shrink_and_perturb", "weight_decay"]
    assert all(sorted(seeds) == [0, 1, 2] and all(len(v) == 30 for v in seeds.values()) for seeds in quick.values())
    scale = bins(RUNS / "scale" / "metrics.jsonl")
    assert sorted(scale) == ["continual_backprop", "none"]
    assert sorted(scale["none"]) == [0, 1, 2] and all(len(v) == 30 for v in scale["none"].values())
    # Continual backprop's series were cut short when the session's time ran out (see the docstring).
    assert sorted(scale["continual_backprop"]) == [0, 1, 2] and all(len(v) >= 15 for v in scale["continual_backprop"].values())


def test_at_3e5_examples_plain_backprops_error_grows_over_seeds():
    """Tasks 1–10 against 21–30: 0.73 ± 0.48 then 1.25 ± 0.59, growth seed by seed +0.52 ± 0.31."""
    check_plain_backprop_loses_plasticity(bins(RUNS / "scale" / "metrics.jsonl")["none"])


def test_at_1_5e5_examples_continual_backprop_keeps_what_plain_backprop_loses():
    """On the 15 tasks (1.5e5 examples) both ran, with windows of 5 tasks: the two start the same
    (tasks 1–5: none − CBP −0.03 ± 0.13), then plain backprop's error grows (+0.55 ± 0.52) while
    continual backprop's stays flat (+0.09 ± 0.38), and by tasks 11–15 none − CBP is +0.44 ± 0.26
    (none 1.12, CBP 0.68)."""
    losses = bins(RUNS / "scale" / "metrics.jsonl")
    both = {name: {seed: v[:15] for seed, v in seeds.items()} for name, seeds in losses.items()}
    none, cbp = both["none"], both["continual_backprop"]
    check_plain_backprop_loses_plasticity(none, window=5)
    check_continual_backprop_keeps_it(none, cbp, window=5)
    start, start_half = interval([early(none[s], 5) - early(cbp[s], 5) for s in sorted(none)])
    assert start - start_half < 0 < start + start_half  # the same at the start of the stream
    growth, half = interval([late(cbp[s], 5) - early(cbp[s], 5) for s in sorted(cbp)])
    assert growth - half < 0  # continual backprop's own growth is not beyond its interval


def test_at_3e4_examples_the_quick_file_is_too_short_to_show_it():
    """What the quick file's comment says: over 30 tasks of 1,000 examples plain backprop's
    error does not grow (its late-minus-early interval holds zero), so no method can be seen
    to keep it from growing; LoP's effect needs the longer stream above."""
    none = bins(RUNS / "quick" / "metrics.jsonl")["none"]
    growth, half = interval([late(none[s]) - early(none[s]) for s in sorted(none)])
    assert growth - half < 0 < growth + half, (growth, half)


@pytest.mark.skipif(not os.environ.get("PLASTILAB_SCIENCE"), reason="about 25 CPU minutes; set PLASTILAB_SCIENCE=1")
def test_a_fresh_run_at_3e5_examples_tells_lops_story(tmp_path):
    """The recorded run's checks on tasks 21–30. Continual backprop's lower error there is shown
    here only up to task 15 (the recorded series stopped early); not yet run to the end."""
    command = [
        sys.executable, "-m", "plastilab", "run", str(SCENARIOS / "slowly-changing-regression-paper.toml"),
        "--seeds", "3", "--set", "task.n_iterations=30", "--set", 'grid.interventions=["none", "continual_backprop"]',
        "--out", str(tmp_path), "--quiet",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    (metrics,) = tmp_path.rglob("metrics.jsonl")
    losses = bins(metrics)
    check_plain_backprop_loses_plasticity(losses["none"])
    check_continual_backprop_keeps_it(losses["none"], losses["continual_backprop"])
