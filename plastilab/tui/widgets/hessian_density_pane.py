"""The Hessian eigenvalue density behind the pane interface: the latest, or by step (``t``).

``EigenvalueHistogram`` keeps its own ``draw(state, log_y, hidden)``, which reads the density
under its event kind; this pane hands it the ``hessian/density`` arrays (state is keyed by tag)
in that shape, so the widget itself needs no change. Over time (``view.over_time``) it draws one
series' densities at every kept checkpoint as a heat strip (``density_strip``).
"""

from __future__ import annotations

from types import SimpleNamespace

from rich.text import Text

from plastilab.runtime.run_state import RunState
from plastilab.tui.palette import series_style
from plastilab.tui.widgets.chart import short_number
from plastilab.tui.widgets.density_strip import density_strip, strip_lines, strip_width
from plastilab.tui.widgets.eigenvalue_histogram import EigenvalueHistogram
from plastilab.tui.widgets.pane import PaneView

TAG = "hessian/density"
FRAME_LINES = 3  # the caption, the x axis and the key around the rows


class HessianDensityPane(EigenvalueHistogram):
    strip = None  # the strip last drawn over time (density_strip.DensityStrip), for the tests

    def draw(self, state: RunState, view: PaneView) -> str:  # type: ignore[override]
        if view.over_time:
            return self.draw_over_time(state, view)
        by_kind = SimpleNamespace(arrays={"histogram": state.arrays.get(TAG, {})}, series=state.series, latest=state.latest)
        return super().draw(by_kind, view.log_y, set(view.hidden), view.over_seeds)

    def draw_over_time(self, state: RunState, view: PaneView) -> str:
        history = state.array_history
        series = view.focused([s for s in state.series if history.of(TAG, s)] or history.series_of(TAG))
        events = history.of(TAG, series) if series else []
        if density_strip(events, 1, 1) is None:
            self.strip = None
            self.show_placeholder(f"no {TAG} yet: scenarios with the Hessian instrument fill this pane")
            return ""
        caption = f"{TAG} by step · {view.name(series)} · {len(events)} checkpoints · shade: log density"
        style = series_style(state.series.index(series) if series in state.series else 0)
        labels = [short_number(e.step) for e in events]

        def lines(width: int, height: int) -> list[Text]:
            self.strip = density_strip(events, strip_width(width, labels), max(1, height - FRAME_LINES))
            shown = len(self.strip.steps)
            title = caption if shown == len(events) else caption.replace(f"{len(events)} checkpoints", f"{shown} of {len(events)} checkpoints")
            return [Text(title, style="bold"), *strip_lines(self.strip, width, style)]

        self.show_lines(lines)
        return caption
