"""Numbers over seeds: the mean and a 95% confidence interval per variant.

A series named ``<variant>/s<seed>`` is one seed of ``<variant>``. Over the n seeds of a variant
the interval is Student's t interval, mean ± t(0.975, n-1) · s / √n with s the sample standard
deviation: it assumes the per-seed values are roughly normal, which for 3-10 seeds is the usual
honest choice (a bootstrap over so few seeds is narrower than the truth). One seed has no
interval. Pure python over plain data, so ``summary.json`` can always be rebuilt from
``metrics.jsonl`` and every face (report, dashboard) shows the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from plastilab.core.series_names import split_seeded_name

CONFIDENCE = 0.95
METHOD = "95% t interval"


@dataclass(frozen=True)
class Interval:
    mean: float | None
    low: float | None  # None: no interval (fewer than two finite values)
    high: float | None
    n: int  # finite values the interval is over
    n_missing: int = 0  # values that were missing or not finite (a diverged seed)

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "half_width": self.half_width}


def mean_interval(values: Iterable[float | None], confidence: float = CONFIDENCE) -> Interval:
    """The mean of the finite ``values`` and its t interval (None ends for fewer than two)."""
    values = list(values)
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    n, missing = len(finite), len(values) - len(finite)
    if n == 0:
        return Interval(None, None, None, 0, missing)
    mean = math.fsum(finite) / n
    if n == 1:
        return Interval(mean, None, None, 1, missing)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, missing)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p > 0.5) of Student's t with ``df`` degrees of freedom, by bisection on
    its distribution function (no scipy in the engine's dependencies)."""
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for t >= 0: one half plus the density's integral from 0 (Simpson's rule on the
    substitution u = atan(x / √df), which makes the integrand smooth and bounded)."""
    # With x = √df·tan(u), the density times dx is c·cos(u)^(df-1) du.
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(math.pi)
    upper = math.atan(t / math.sqrt(df))
    steps = 400
    h = upper / steps
    total = sum((1 if i in (0, steps) else 4 if i % 2 else 2) * math.cos(i * h) ** (df - 1) for i in range(steps + 1))
    return 0.5 + c * total * h / 3


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
                mean_interval(run[i] if i < len(run) else None for run in runs).as_dict() for i in range(n_tasks)
            ]
        groups[group] = {
            "n_seeds": len(seeded),
            "seeds": [seed for seed, _ in seeded],
            "method": METHOD,
            "final": {tag: mean_interval(f.get(tag) for f in finals).as_dict() for tag in final_tags},
            "per_task": per_task,
        }
    return groups
