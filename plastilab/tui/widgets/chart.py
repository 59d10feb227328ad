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
