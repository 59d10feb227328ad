"""The Hessian's eigenvalue density: one outline per series, from its latest Histogram event."""

from __future__ import annotations

import numpy as np

from plastilab.core.events import Histogram
from plastilab.tui.palette import series_rgb
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.chart import Chart, log10_axis

HINT = "no hessian/density yet: scenarios with the Hessian instrument fill this pane"


class EigenvalueHistogram(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)

    def draw(self, state: RunState, log_y: bool, hidden: set[str]) -> str:
        histograms: dict[str, Histogram] = state.arrays.get("histogram", {})  # type: ignore[assignment]
        drawn = []
        for name, event in histograms.items():
            if name in hidden:
                continue
            counts = np.asarray(event.counts, dtype=float)
            edges = np.asarray(event.edges, dtype=float)
            if len(counts) == 0 or len(edges) != len(counts) + 1:
                continue
            centres = (edges[:-1] + edges[1:]) / 2
            y = np.log10(counts + 1e-12 * max(1.0, counts.max())) if log_y else counts
            index = state.series.index(name) if name in state.series else len(drawn)
            drawn.append((index, centres, y, event))
        if not drawn:
            self.show_placeholder(HINT)
            return ""
        self.begin()
        plt = self.plt
        if len(drawn) == 1:
            index, x, y, _ = drawn[0]
            base = float(y.min()) if log_y else 0.0
            plt.bar(x.tolist(), (y - base).tolist(), color=series_rgb(index), minimum=0, width=1.0)
        else:
            for index, x, y, _ in drawn:
                plt.plot(x.tolist(), y.tolist(), marker="braille", color=series_rgb(index))
        if log_y and len(drawn) > 1:
            log10_axis(plt, min(float(y.min()) for _, _, y, _ in drawn), max(float(y.max()) for _, _, y, _ in drawn))
        event = drawn[0][3]
        caption = f"{event.tag} at step {max(e.step for *_, e in drawn):,}" + (f" · {event.series}" if len(drawn) == 1 else "")
        plt.title(caption)
        self._changed()
        return caption
