"""The plasticity probe's learning curve: how fast each series can still fit a fresh task."""

from __future__ import annotations

import numpy as np

from plastilab.core.events import Curve
from plastilab.tui.palette import series_rgb
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.chart import Chart, log10_axis, positive_log10, step_axis
from plastilab.tui.widgets.pane import PaneView

TAG = "probe/curve"
HINT = f"no {TAG} yet: scenarios with the plasticity probe fill this pane"


class PlasticityCurve(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)

    def draw(self, state: RunState, view: PaneView) -> str:
        """Draw the latest curve of every series; returns a caption for the pane."""
        log_y, hidden = view.log_y, view.hidden
        curves: dict[str, Curve] = state.arrays.get(TAG, {})  # type: ignore[assignment]
        drawn = []
        for name, event in curves.items():
            if name in hidden:
                continue
            x, y = np.asarray(event.x, dtype=float), np.asarray(event.y, dtype=float)
            keep = np.isfinite(y)
            x, y = x[keep], y[keep]
            if log_y:
                x, y = positive_log10(x, y)
            if len(x):
                index = state.series.index(name) if name in state.series else len(drawn)
                drawn.append((index, x, y, event))
        if not drawn:
            self.show_placeholder(HINT)
            return ""
        self.begin()
        for index, x, y, _ in drawn:
            self.plt.plot(x.tolist(), y.tolist(), marker="braille", color=series_rgb(index))
        if log_y:
            log10_axis(self.plt, min(float(y.min()) for _, _, y, _ in drawn), max(float(y.max()) for _, _, y, _ in drawn))
        x_low = min(float(x.min()) for _, x, _, _ in drawn)
        x_high = max(float(x.max()) for _, x, _, _ in drawn)
        step_axis(self.plt, x_low, x_high, self.size.width - 8)
        caption = f"{drawn[0][3].tag} at step {max(e.step for *_, e in drawn):,}: loss while fitting a fresh task"
        self.plt.title(caption)
        self._changed()
        return caption
