"""Numbers over seeds: the mean and a 95% confidence interval per variant.

A series named ``<variant>/s<seed>`` is one seed of ``<variant>``. Over the n seeds of a variant
the interval is Student's t interval, mean ± t(0.975, n-1) · s / √n with s the sample standard
deviation: it assumes the per-seed values are roughly normal, which for 3-10 seeds is the usual
honest choice (a bootstrap over so few seeds is narrower than the truth). One seed has no
interval. The interval is ``core.statistics``'s, over plain data, so ``summary.json`` can always
be rebuilt from ``metrics.jsonl`` and every face (report, dashboard) shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plastilab.core.series_names import split_seeded_name
from plastilab.core.statistics import mean_interval

# The run folder's own name for core.statistics' mean_interval (summary.json's "method").
METHOD = "95% t interval"


def interval_record(values: Iterable[float | None]) -> dict[str, Any]:
    """The mean and t interval of the finite ``values`` as summary.json keeps it: None where
    undefined (no value, or one value), with the count of missing or non-finite values."""
    values = list(values)
    interval = mean_interval(values)
    two = interval.n >= 2
    return {
        "mean": interval.mean if interval.n else None,
        "low": interval.low if two else None,
        "high": interval.high if two else None,
        "n": interval.n,
        "n_missing": len(values) - interval.n,
        "half_width": (interval.high - interval.low) / 2 if two else None,
    }


def group_summaries(series: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per variant (series with a ``/s<seed>`` suffix, grouped by the rest of the name): its
    seeds, and the interval of every final value and every task's value over those seeds."""
    members: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for name, data in series.items():
        group, seed = split_seeded_name(name)
        if seed is not None:
            members.setdefault(group, []).append((seed, data))
    groups = {}
    for group, seeded in members.items():
        finals = [data.get("final", {}) for _, data in seeded]
        per_tasks = [data.get("per_task", {}) for _, data in seeded]
        final_tags = list(dict.fromkeys(tag for final in finals for tag in final))
        task_tags = list(dict.fromkeys(tag for per_task in per_tasks for tag in per_task))
        per_task = {}
        for tag in task_tags:
            runs = [p.get(tag, []) for p in per_tasks]
            n_tasks = max(len(run) for run in runs)
            per_task[tag] = [
                interval_record(run[i] if i < len(run) else None for run in runs) for i in range(n_tasks)
            ]
        groups[group] = {
            "n_seeds": len(seeded),
            "seeds": [seed for seed, _ in seeded],
            "method": METHOD,
            "final": {tag: interval_record(f.get(tag) for f in finals) for tag in final_tags},
            "per_task": per_task,
        }
    return groups
