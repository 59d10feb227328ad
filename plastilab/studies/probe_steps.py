"""One trial's numbers at its probe steps, read from its run folder's metrics.jsonl.

A probe step is a step at which the plasticity probe logged. Each statistic is taken at that
step or, for an instrument on a slower or offset schedule, at its latest value since the previous
probe step (never older, so a number is never paired with a probe it did not see). Written once
per trial, so aggregating a large study reads small files instead of every metrics line again.
(Saved training state, ``checkpoint_every``, is another thing: ``runtime/checkpoint_save.py`` and ``runtime/resume.py``.)
"""

from __future__ import annotations

import bisect
import json
import math
from pathlib import Path
from typing import Any

from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.rundir.jsonsafe import record_value
from plastilab.rundir import safe_files

# Tried in order when the study's plasticity tag is absent (older runs, other probe families).
FALLBACK_TARGETS = ("probe/plasticity_loss", "probe/plasticity_loss_raw", "probe/final_loss_scaled", "probe/final_loss")
# Not statistics of the network: bookkeeping, or constant by construction.
NOT_STATISTICS = ("task/index", "explore/epsilon", "episode/optimal_return", "episode/random_return")


def read_series(run_dir: str | Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """series -> tag -> [(step, value)] in step order."""
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for record in read_jsonl(Path(run_dir) / layout.METRICS):
        if not isinstance(record, dict) or not isinstance(record.get("tag"), str):
            continue
        try:
            value = record_value(record)
            step = int(record["step"])
        except (KeyError, TypeError, ValueError):
            continue
        series.setdefault(str(record.get("series", "")), {}).setdefault(record["tag"], []).append((step, value))
    for tags in series.values():
        for points in tags.values():
            points.sort(key=lambda p: p[0])
    return series


def choose_target(series: dict[str, dict[str, list]], wanted: str) -> str | None:
    tags = {tag for per_tag in series.values() for tag in per_tag}
    for tag in (wanted, *FALLBACK_TARGETS):
        if tag in tags:
            return tag
    probe = sorted(t for t in tags if t.startswith("probe/") and t != "probe/curve")
    return probe[0] if probe else None


def read_probe_steps(run_dir: str | Path, wanted_target: str) -> dict[str, Any]:
    series = read_series(run_dir)
    target = choose_target(series, wanted_target)
    out: dict[str, Any] = {"target": target, "series": {}}
    for name, tags in series.items():
        final = {tag: _finite(points[-1][1]) for tag, points in tags.items() if tag not in NOT_STATISTICS}
        at_probe_steps = []
        steps = [step for step, _ in tags.get(target, [])] if target else []
        previous = -1
        for step in steps:
            if step == 0:  # the probe's baseline at θ_0: plasticity loss is zero there by definition
                previous = 0
                continue
            values = {}
            for tag, points in tags.items():
                if tag in NOT_STATISTICS:
                    continue
                found = _latest_in(points, previous, step)
                if found is not None:
                    values[tag] = found
            at_probe_steps.append({"step": step, "values": values})
            previous = step
        # "checkpoints": the on-disk key of the probe steps (checkpoints/<trial>.json), kept as written.
        out["series"][name] = {"checkpoints": at_probe_steps, "final": final}
    return out


def _latest_in(points: list[tuple[int, float]], after: int, upto: int) -> float | None:
    """The value at the largest step in (after, upto], or None."""
    i = bisect.bisect_right(points, upto, key=lambda p: p[0]) - 1
    if i < 0 or points[i][0] <= after:
        return None
    return _finite(points[i][1])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def write_probe_steps(path: str | Path, trial_id: str, run_dir: str | Path, wanted_target: str) -> dict[str, Any]:
    """Write the trial's probe-step file; ``path`` is checkpoints/<trial>.json in the study folder
    (the folder's on-disk name keeps the older word, as study folders already written have it)."""
    data = {"trial": trial_id, "run_dir": str(run_dir), **read_probe_steps(run_dir, wanted_target)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    safe_files.write_new_in(tmp.parent, tmp.name, json.dumps(data).encode("utf-8"))  # never through a planted link
    tmp.replace(path)
    return data
