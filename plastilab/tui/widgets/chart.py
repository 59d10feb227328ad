"""A plotext chart drawn straight from plotext's cell matrix into Textual strips.

plotext builds a figure as a matrix of characters and colours, then joins it into one ANSI
string, which Rich would parse back into styled text. Taking the cells straight from the matrix
skips both steps (they cost as much as the figure itself) and gives the same picture.
While it has nothing to draw, a chart shows a one-line hint instead of empty axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import plotext._utility as plotext_utility
from plotext._dict import themes as plotext_themes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip
from textual_plotext import PlotextPlot
from textual_plotext.plot import _rgbify_theme, _sequence

from plastilab.tui.widgets.plotext_speedups import faster_plotext

_STYLES: dict[tuple, Style] = {}


def _style(colours: tuple) -> Style:
    """plotext's (foreground, style, background) of a cell as a Rich style (cached)."""
    style = _STYLES.get(colours)
    if style is None:
        ansi = plotext_utility.colors_to_ansi(*colours)
        text = Text.from_ansi(ansi + "x" + plotext_utility.ansi_end)
        found = text.spans[0].style if text.spans else Style()
        style = _STYLES[colours] = Style.parse(found) if isinstance(found, str) else found
    return style


class Chart(PlotextPlot):
    def __init__(self, placeholder: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.placeholder: str | None = placeholder or None
        self._generation = 0
        self._cache_key: tuple | None = None
        self._strips: list[Strip] = []
        self.key_line: Text | None = None  # a line above the figure: a legend plotext cannot colour
        # Text drawn instead of a plotext figure (a heat strip), laid out for (width, height);
        # where it gives None the figure is drawn.
        self.lines: Callable[[int, int], list[Text] | None] | None = None

    def show_placeholder(self, text: str) -> None:
        if self.placeholder != text:
            self.placeholder = text
            self._changed()

    def begin(self) -> None:
        """Start a fresh figure (plotext keeps state between draws otherwise)."""
        self.placeholder = None
        self.key_line = None
        self.lines = None
        self.plt.clear_figure()
        self.plt.frame(True)

    def show_lines(self, lines: Callable[[int, int], list[Text] | None]) -> None:
        """Draw the lines of text ``lines(width, height)`` gives (cut to the width) instead of a figure."""
        self.placeholder = None
        self.key_line = None
        self.lines = lines
        self._changed()

    def _register_theme(self, app_theme_name: str) -> None:
        """The plotext theme for an app theme, from that theme's own colours.

        textual-plotext's version reads ``app.theme_variables``, which keep the previous theme's
        colours until the app's deferred CSS refresh, and registers each name once for good. A
        theme set in the app's ``on_mount`` races the charts' mounts: on Python 3.12+ asyncio runs
        the charts first, so the light theme got a dark canvas for the life of the process.
        """
        if self.theme != "auto":
            return
        theme = self.app.get_theme(app_theme_name) or self.app.current_theme
        colours = {**theme.to_color_system().generate(), **theme.variables}
        surface, foreground = Color.parse(colours["surface"]).rgb, Color.parse(colours["foreground"]).rgb
        plotext_themes[self._get_plotext_theme_name(app_theme_name)] = _rgbify_theme(surface, surface, foreground, "default", _sequence)
        self._changed()

    def _changed(self) -> None:
        self._generation += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (self._generation, width, height, self.app.theme)
        if key != self._cache_key:
            self._strips = self._build(width, height)
            self._cache_key = key
        return self._strips[y] if y < len(self._strips) else Strip.blank(width)

    def _centred(self, message: str, width: int, height: int) -> list[Strip]:
        blank = [Strip.blank(width) for _ in range(height)]
        text = Text(message, style="italic", justify="center", no_wrap=True, overflow="ellipsis")
        console = self.app.console
        line = console.render_lines(text, console.options.update_width(width), pad=True)[0]
        blank[height // 2] = Strip(line, width)
        return blank

    def _build(self, width: int, height: int) -> list[Strip]:
        if width <= 0 or height <= 0:
            return []
        if self.placeholder:
            return self._centred(self.placeholder, width, height)
        lines = self.lines(width, height) if self.lines is not None else None
        if lines is not None:  # (None: this size takes the figure)
            lines = lines[:height]
            return [self._text_line(line, width) for line in lines] + [Strip.blank(width)] * (height - len(lines))
        key = []
        if self.key_line is not None and height > 3:
            key, height = [self._text_line(self.key_line, width)], height - 1
        plot = self._plot
        plot.plotsize(width, height)
        plot._set_size(width, height)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        try:
            with faster_plotext():
                plot._set_sizes()
                plot._build_matrix()
        except (ArithmeticError, ValueError):
            # plotext overflows on values near ±1e308 (a damaged or diverged run): say so
            # instead of taking the whole lab down with a traceback.
            return self._centred("(values too large to draw)", width, height)
        matrix = plot.monitor.matrix
        strips = []
        for row in range(matrix.rows - 1, -1, -1):  # plotext's row 0 is the bottom line
            markers, fg, st, bg = matrix.marker[row], matrix.fullground[row], matrix.style[row], matrix.background[row]
            segments = []
            start, previous = 0, (fg[0], st[0], bg[0])
            for col in range(1, matrix.cols):
                colours = (fg[col], st[col], bg[col])
                if colours != previous:
                    segments.append(Segment("".join(markers[start:col]), _style(previous)))
                    start, previous = col, colours
            segments.append(Segment("".join(markers[start:]), _style(previous)))
            strips.append(Strip(segments).adjust_cell_length(width))
        return key + strips[:height]

    def _text_line(self, text: Text, width: int) -> Strip:
        console = self.app.console
        text = text.copy()
        text.no_wrap, text.overflow = True, "ellipsis"
        line = console.render_lines(text, console.options.update_width(width), pad=True)[0]
        return Strip(line, width)


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


def value_axis(plt, low: float, high: float, height: int) -> None:
    """Round values on the y axis (0.5, 1.0, 1.5 …), every label with the same decimals."""
    ticks, step = value_ticks(low, high, max(3, height // 2))
    if len(ticks) < 2:
        return
    if max(abs(low), abs(high)) >= 1e4 or step < 1e-3:
        labels = [f"{t:.1e}" for t in ticks]
    else:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        labels = [f"{t:.{decimals}f}" for t in ticks]
    plt.yticks(ticks, labels)


def value_ticks(low: float, high: float, count: int) -> tuple[list[float], float]:
    """About ``count`` (at least 3) round ticks inside [low, high], steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [], 0.0
    raw = (high - low) / max(1, count)
    steps = [m * 10.0**e for e in range(math.floor(math.log10(raw)) - 2, math.floor(math.log10(raw)) + 2) for m in (1, 2, 5)]
    ticks: list[float] = []
    step = steps[0]
    for step in sorted((s for s in steps if s <= raw * 1.5), reverse=True):
        first = math.ceil(low / step - 1e-9) * step
        ticks = [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]
        if len(ticks) >= 3:
            break
    return ticks, step


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
