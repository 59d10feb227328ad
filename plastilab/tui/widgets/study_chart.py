"""A study's aggregate as a chart: a statistic against plasticity loss at the probe steps
(``draw_scatter``), or plasticity loss against width with the 95% interval over seeds
(``draw_scaling``); the study's analysis says which (``StudyAnalysis.chart``)."""

from __future__ import annotations

import math

import numpy as np

from plastilab.tui.palette import series_rgb
from plastilab.tui.widgets.chart import Chart, short_number, value_axis

HINT = "the aggregate appears when the first trial finishes"


def format_r(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:+.2f}"


class StudyChart(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)

    def draw_scatter(self, groups: dict[str, tuple[list[float], list[float]]], statistic: str, target: str) -> None:
        """One colour per group (``scatter.scatter_groups``); the legend names the groups."""
        if not any(xs for xs, _ in groups.values()):
            self.show_placeholder(f"no checkpoint with both {statistic} and {target} yet")  # a probe step; the shown word stays
            return
        self.begin()
        plt = self.plt
        for index, (label, (xs, ys)) in enumerate(groups.items()):
            plt.scatter(xs, ys, marker="dot", color=series_rgb(index), label=label[:20] if len(groups) > 1 else None)
        ys_all = [y for _, ys in groups.values() for y in ys]
        low, high = min(ys_all), max(ys_all)
        if high > low:
            value_axis(plt, low, high, self.size.height - 3)
        plt.xlabel(statistic)
        self._changed()

    def draw_scaling(self, points: list[dict], x_label: str) -> None:
        """Mean plasticity loss per x (log2 axis when x doubles) with its interval as a bar."""
        shown = [p for p in points if p.get("plasticity_mean") is not None and math.isfinite(p["plasticity_mean"])]
        if not shown:
            self.show_placeholder("no plasticity loss per width yet")
            return
        self.begin()
        plt = self.plt
        xs = np.array([p["x"] for p in shown], dtype=float)
        log_x = bool(np.all(xs > 0)) and len(xs) > 1 and xs.max() / xs.min() >= 8
        pos = np.log2(xs) if log_x else xs
        means = [p["plasticity_mean"] for p in shown]
        for x, p in zip(pos, shown):
            low, high = p.get("plasticity_low"), p.get("plasticity_high")
            if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
                plt.plot([float(x), float(x)], [low, high], marker="braille", color=series_rgb(6))
        plt.plot(pos.tolist(), means, marker="braille", color=series_rgb(0))
        plt.scatter(pos.tolist(), means, marker="dot", color=series_rgb(1))
        plt.xticks(pos.tolist(), [short_number(x) for x in xs])
        values = [v for p in shown for v in (p["plasticity_mean"], p.get("plasticity_low"), p.get("plasticity_high")) if v is not None and math.isfinite(v)]
        if max(values) > min(values):
            value_axis(plt, min(values), max(values), self.size.height - 3)
        plt.xlabel(x_label + (" (log scale)" if log_x else ""))
        self._changed()
