"""A plotext chart that shows a one-line hint instead of empty axes while it has nothing to draw."""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot


class Chart(PlotextPlot):
    def __init__(self, placeholder: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.placeholder: str | None = placeholder or None

    def render(self) -> RenderResult:
        if self.placeholder:
            return Text(self.placeholder, style="italic", justify="center")
        return super().render()

    def show_placeholder(self, text: str) -> None:
        if self.placeholder != text:
            self.placeholder = text
            self.refresh()

    def begin(self) -> None:
        """Start a fresh figure (plotext keeps state between draws otherwise)."""
        self.placeholder = None
        self.plt.clear_figure()
        self.plt.frame(True)


def log10_axis(plt, low: float, high: float, count: int = 5) -> None:
    """Ticks for an axis whose values are log10 of the data, labelled with the data's values."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return
    if high - low < 1e-9:
        high = low + 1.0
    ticks = np.linspace(low, high, count)
    plt.yticks(list(ticks), [f"{10 ** t:.2g}" for t in ticks])


def positive_log10(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = y > 0
    return x[keep], np.log10(y[keep])


def step_axis(plt, low: float, high: float, width: int) -> None:
    """Round step numbers on the x axis (0, 2k, 4k …) instead of plotext's fractions."""
    ticks = nice_ticks(low, high, max(2, width // 9))
    if ticks:
        plt.xticks(ticks, [short_number(t) for t in ticks])


def nice_ticks(low: float, high: float, count: int) -> list[float]:
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    raw = (high - low) / max(1, count)
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    while True:
        first = math.ceil(low / step) * step
        ticks = [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]
        if len(ticks) >= min(3, count) or step <= 1:
            return ticks
        step /= 2


def short_number(value: float) -> str:
    """1500 -> 1.5k, 2000000 -> 2M, 250 -> 250."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}"
