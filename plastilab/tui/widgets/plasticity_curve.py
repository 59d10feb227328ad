"""The plasticity probe's learning curve: how fast each series can still fit a fresh task.

The latest curve of every series, or (``view.over_time``, key ``t``) one series' curves at
successive checkpoints overlaid with the spread across the probe's targets (``probe_overlay``).
"""

from __future__ import annotations

import numpy as np

from rich.text import Text

from plastilab.core.events import Curve, Matrix
from plastilab.tui.palette import series_rgb
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.chart import Chart, log10_axis, positive_log10, short_number, step_axis, value_axis
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.probe_overlay import CheckpointCurve, faded, probe_overlay, ramp_rgb, sparkline_lines

TAG = "probe/curve"
TARGETS_TAG = "probe/target_curves"  # one row a target: the spread across targets
CHART_ROWS = 12  # over time, a shorter pane shows one sparkline a checkpoint instead of a chart
HINT = f"no {TAG} yet: scenarios with the plasticity probe fill this pane"


class PlasticityCurve(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)

    def draw(self, state: RunState, view: PaneView) -> str:
        """Draw the latest curve of every series; returns a caption for the pane."""
        if view.over_time:
            return self.draw_over_time(state, view)
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

    overlay: list[CheckpointCurve] = []  # what the over-time view last drew, for the tests

    def draw_over_time(self, state: RunState, view: PaneView) -> str:
        """One series' curves at successive checkpoints, coloured early to late, with the spread."""
        history = state.array_history
        series = view.focused([s for s in state.series if history.of(TAG, s)] or history.series_of(TAG))
        curves = history.of(TAG, series) if series else []
        overlay = probe_overlay(curves, history.of(TARGETS_TAG, series) if series else [])
        self.overlay = overlay
        drawn = []
        for i, checkpoint in enumerate(overlay):
            colour = ramp_rgb(i, len(overlay))
            lines = [(checkpoint.mean, colour)]
            if checkpoint.low is not None:
                lines = [(checkpoint.low, faded(colour)), (checkpoint.high, faded(colour)), *lines]
            for y, rgb in lines:
                x, y = checkpoint.x, np.asarray(y, dtype=float)
                keep = np.isfinite(y)
                x, y = x[keep], y[keep]
                if view.log_y:
                    x, y = positive_log10(x, y)
                if len(x):
                    drawn.append((rgb, x, y))
        if not drawn:
            self.show_placeholder(HINT)
            return ""
        self.begin()
        for rgb, x, y in drawn:
            self.plt.plot(x.tolist(), y.tolist(), marker="braille", color=rgb)
        low, high = min(float(y.min()) for *_, y in drawn), max(float(y.max()) for *_, y in drawn)
        if view.log_y:
            log10_axis(self.plt, low, high)
        else:
            value_axis(self.plt, low, high, self.size.height - 5)
        step_axis(self.plt, min(float(x.min()) for _, x, _ in drawn), max(float(x.max()) for _, x, _ in drawn), self.size.width - 8)
        spread = "faint: lowest and highest target" if overlay[0].low is not None else "no per-target curves logged"
        caption = f"{TAG} of {view.name(series)} at {len(overlay)} of {len(curves)} checkpoints, early to late · {spread}"
        self.plt.title(caption)
        self.key_line = overlay_key(overlay)
        title = Text(f"{TAG} · {view.name(series)} · {len(overlay)} of {len(curves)} checkpoints · final loss ±s.d. (min–max)", style="bold")

        def short_pane(width: int, height: int) -> list[Text] | None:
            if height >= CHART_ROWS:
                return None
            return [title, *sparkline_lines(overlay, width, view.log_y)]

        self.lines = short_pane
        self._changed()
        return caption


def overlay_key(overlay: list[CheckpointCurve]) -> Text:
    """'step 0: 0.12±0.01  step 100: 0.30±0.05 …' in the checkpoints' colours: the final loss, mean ± s.d. over targets."""
    key = Text(no_wrap=True, overflow="ellipsis")
    key.append("final loss ", style="dim")
    for i, checkpoint in enumerate(overlay):
        r, g, b = ramp_rgb(i, len(overlay))
        spread = f"±{checkpoint.final_sd:.2g}" if checkpoint.final_sd is not None else ""
        key.append(("  " if i else "") + f"━ {short_number(checkpoint.step)}: {checkpoint.final:.3g}{spread}", style=f"bold rgb({r},{g},{b})")
    return key
