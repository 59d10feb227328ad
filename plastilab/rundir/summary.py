"""Summaries built from scalars alone, so a summary can always be rebuilt from metrics.jsonl."""

from __future__ import annotations

import math
from typing import Any

from plastilab.rundir.aggregate import METHOD, group_summaries

TASK_PREFIX = "task/"


class SummaryBuilder:
    """Per series: the last value of every tag, and every value of ``task/*`` tags in order;
    per group of seeds (``<variant>/s<seed>``): the mean and 95% interval of each over seeds."""

    def __init__(self) -> None:
        self.final: dict[str, dict[str, float | None]] = {}
        self.per_task: dict[str, dict[str, list[float | None]]] = {}
        self.last_step: dict[str, int] = {}

    def add(self, step: int, series: str, tag: str, value: float | None) -> None:
        if value is not None and not math.isfinite(value):
            value = None
        self.final.setdefault(series, {})[tag] = value
        self.last_step[series] = max(step, self.last_step.get(series, 0))
        if tag.startswith(TASK_PREFIX) and tag != "task/index":
            self.per_task.setdefault(series, {}).setdefault(tag, []).append(value)

    def summary(self) -> dict[str, Any]:
        series = {}
        for name in self.final:
            series[name] = {
                "last_step": self.last_step.get(name, 0),
                "final": self.final[name],
                "per_task": self.per_task.get(name, {}),
            }
        summary: dict[str, Any] = {"series": series}
        groups = group_summaries(series)
        if groups:  # series named <variant>/s<seed>: each variant's mean and interval over seeds
            summary["groups"] = groups
            summary["interval_method"] = METHOD
        return summary
