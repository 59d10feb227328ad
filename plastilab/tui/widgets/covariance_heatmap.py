"""A matrix as a heat map in half blocks: two rows of cells per line, so cells come out square.

Signed values (a gradient covariance) use a diverging map, blue below zero and red above,
scaled by the largest magnitude; values of one sign use the red half only.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from plastilab.core.events import Matrix
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.pane import PaneView

HINT = "no gradients/covariance yet: scenarios with the covariance instrument fill this pane"
NEGATIVE = np.array([33.0, 102.0, 172.0])
POSITIVE = np.array([178.0, 24.0, 43.0])


# Matrices another pane draws: the probe's curve per target is a spread of curves, not a map.
DRAWN_ELSEWHERE = frozenset({"probe/target_curves"})


def shown_matrices(state: RunState, hidden: frozenset[str] | set[str] = frozenset()) -> list[Matrix]:
    """The matrices this pane steps through (``n``): each shown series' latest, by tag."""
    return [m for m in state.arrays_of(Matrix, hidden) if m.tag not in DRAWN_ELSEWHERE]


class CovarianceHeatmap(Widget):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.matrix: Matrix | None = None
        self._cache: tuple | None = None
        self._lines: list[Strip] = []

    def draw(self, state: RunState, view: PaneView) -> str:
        """The ``view.matrix_index``-th of the shown series' latest matrices; the caption names it."""
        matrices = shown_matrices(state, view.hidden)
        matrix = matrices[view.matrix_index % len(matrices)] if matrices else None
        if matrix is not self.matrix:
            self.matrix = matrix
            self.refresh()
        return "" if matrix is None else f"{matrix.series} · {matrix.tag} · step {matrix.step:,}"

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if self.matrix is None:
            if y == height // 2:
                return self._text_strip(Text(HINT, style="italic", justify="center"), width)
            return Strip.blank(width)
        key = (id(self.matrix), width, height, self.app.current_theme.dark)
        if self._cache != key:
            self._lines = self._draw(width, height)
            self._cache = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width)

    def _draw(self, width: int, height: int) -> list[Strip]:
        values = np.asarray(self.matrix.values, dtype=float)
        if values.ndim != 2 or values.size == 0 or height < 2:
            return []
        rows, cols = values.shape
        # a square of cells: `side` columns wide and `side` half-rows tall (one line legend)
        side = max(1, min(width, 2 * (height - 1), max(rows, cols) * 4))
        pix_h = max(1, round(side * rows / max(rows, cols)))
        pix_w = max(1, round(side * cols / max(rows, cols)))
        pix_h += pix_h % 2
        r_idx = np.minimum((np.arange(pix_h) * rows) // pix_h, rows - 1)
        c_idx = np.minimum((np.arange(pix_w) * cols) // pix_w, cols - 1)
        grid = values[np.ix_(r_idx, c_idx)]
        finite = np.isfinite(grid)
        scale = float(np.max(np.abs(grid[finite]))) if finite.any() else 1.0
        scale = scale or 1.0
        middle = np.array([45.0, 45.0, 45.0]) if self.app.current_theme.dark else np.array([235.0, 235.0, 235.0])
        norm = np.where(finite, grid / scale, 0.0)
        weight = np.abs(norm)[..., None]
        target = np.where((norm < 0)[..., None], NEGATIVE, POSITIVE)
        rgb = (middle * (1 - weight) + target * weight).astype(int)
        pad = max(0, (width - pix_w) // 2)
        lines: list[Strip] = []
        for r in range(0, pix_h, 2):
            segments = [Segment(" " * pad)]
            for c in range(pix_w):
                top, bottom = rgb[r, c], rgb[r + 1, c] if r + 1 < pix_h else rgb[r, c]
                style = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
                segments.append(Segment("▀", style))
            lines.append(Strip(segments).extend_cell_length(width).crop(0, width))
        legend = Text(
            f"{self.matrix.series} · {self.matrix.tag} · step {self.matrix.step:,} · "
            f"{rows}×{cols} · |max| {scale:.3g} · blue < 0 < red",
            style="dim",
            justify="center",
        )
        lines.append(self._text_strip(legend, width))
        return lines

    def _text_strip(self, text: Text, width: int) -> Strip:
        text.no_wrap = True
        text.overflow = "ellipsis"
        console = self.app.console
        segments = console.render_lines(text, console.options.update_width(max(1, width)), pad=True)[0]
        return Strip(segments).extend_cell_length(width).crop(0, width)
