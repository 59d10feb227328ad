"""The final loss of every iteration: one line per series or per combination, x = iteration.

Lines take their combination's colour, so the ranking table below doubles as the legend; the
seeds of one combination share it.
"""

from __future__ import annotations

import numpy as np

from plastilab.tui.palette import series_rgb
from plastilab.tui.widgets.chart import Chart, log10_axis, nice_ticks, positive_log10

HINT = "no task/final_loss yet: it arrives at the end of each series' first iteration"


class FinalLossChart(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)
        self._drawn: tuple | None = None

    def on_resize(self) -> None:
        if self._drawn is not None:  # the iteration ticks depend on the width
            self.draw(*self._drawn)

    def draw(self, lines: list[tuple[int, list[float | None]]], log_y: bool) -> None:
        """``lines``: (colour index, final loss of each iteration; None where it was not finite)."""
        self._drawn = (lines, log_y)
        drawn = []
        for colour, values in lines:
            y = np.array([np.nan if v is None else v for v in values], dtype=float)
            x = np.arange(1, len(y) + 1, dtype=float)
            keep = np.isfinite(y)
            x, y = x[keep], y[keep]
            if log_y:
                x, y = positive_log10(x, y)
            if len(x):
                drawn.append((colour, x, y))
        if not drawn:
            self.show_placeholder(HINT + (" (none above 0 for a log scale)" if log_y and lines else ""))
            return
        self.begin()
        plt = self.plt
        for colour, x, y in drawn:
            if len(x) == 1:
                plt.scatter(x.tolist(), y.tolist(), marker="braille", color=series_rgb(colour))
            else:
                plt.plot(x.tolist(), y.tolist(), marker="braille", color=series_rgb(colour))
        if log_y:
            log10_axis(plt, min(float(y.min()) for _, _, y in drawn), max(float(y.max()) for _, _, y in drawn))
        last = max(float(x[-1]) for _, x, _ in drawn)
        ticks = iteration_ticks(last, self.size.width - 8)
        plt.xticks(ticks, [str(int(t)) for t in ticks])
        plt.xlim(1, max(2.0, last))
        self._changed()


def iteration_ticks(last: float, width: int) -> list[float]:
    """Whole iteration numbers from 1 to ``last``, spaced to fit ``width`` columns."""
    ticks = [t for t in nice_ticks(1.0, max(2.0, last), max(2, width // 6)) if t == int(t) and t >= 1]
    return ticks or [1.0]
