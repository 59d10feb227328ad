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
from plastilab.tui.widgets.seed_bands import EventMemo, band, drawn_units, seed_groups
from plastilab.tui.widgets.probe_overlay import CheckpointCurve, faded, probe_overlay, ramp_rgb, sparkline_lines

TAG = "probe/curve"
TARGETS_TAG = "probe/target_curves"  # one row a target: the spread across targets
CHART_ROWS = 12  # over time, a shorter pane shows one sparkline a checkpoint instead of a chart
HINT = f"no {TAG} yet: scenarios with the plasticity probe fill this pane"


class PlasticityCurve(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)
        self._memo = EventMemo()  # each drawn unit's rows, while its curves stay the latest

    def draw(self, state: RunState, view: PaneView) -> str:
        """Draw the latest curve of every series (over seeds: each variant's mean between its
        seeds' min and max); returns a caption for the pane."""
        if view.over_time:
            return self.draw_over_time(state, view)
        log_y = view.log_y
        curves: dict[str, Curve] = state.arrays.get(TAG, {})  # type: ignore[assignment]
        drawn = []  # (colour index, x, y, event, marker): over seeds a variant's min, max (dots) and mean
        for unit in drawn_units(state.series, curves, view.hidden, view.over_seeds):
            events = tuple(curves[name] for name in unit)
            rows = self._memo.get(tuple(unit), events, lambda: unit_rows(events))
            if rows is None:
                continue
            x, rows = rows
            index = state.series.index(unit[0]) if unit[0] in state.series else len(drawn)
            event = max(events, key=lambda e: e.step)
            for y, marker in rows:
                px, py = positive_log10(x, y) if log_y else (x, y)
                if len(px):
                    drawn.append((index, px, py, event, marker))
        if not drawn:
            self.show_placeholder(HINT)
            return ""
        self.begin()
        for index, x, y, _, marker in drawn:
            self.plt.plot(x.tolist(), y.tolist(), marker=marker, color=series_rgb(index))
        if log_y:
            log10_axis(self.plt, min(float(y.min()) for _, _, y, *_ in drawn), max(float(y.max()) for _, _, y, *_ in drawn))
        x_low = min(float(x.min()) for _, x, *_ in drawn)
        x_high = max(float(x.max()) for _, x, *_ in drawn)
        step_axis(self.plt, x_low, x_high, self.size.width - 8)
        caption = f"{drawn[0][3].tag} at step {max(d[3].step for d in drawn):,}: loss while fitting a fresh task"
        if view.over_seeds and seed_groups(state.series):
            caption += " · mean, min–max over seeds"
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


def unit_rows(events: tuple[Curve, ...]) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]] | None:
    """(x, [(y, marker)]) for one series' curve, or a variant's seeds' min, max (dots) and mean
    (braille); None when no curve has a finite point."""
    lines = []
    for event in events:
        x, y = np.asarray(event.x, dtype=float), np.asarray(event.y, dtype=float)
        keep = np.isfinite(y)
        if keep.any():
            lines.append((x[keep], y[keep]))
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0][0], [(lines[0][1], "braille")]
    x, low, high, mean = band(lines)
    return x, [(low, "dot"), (high, "dot"), (mean, "braille")]


def overlay_key(overlay: list[CheckpointCurve]) -> Text:
    """'step 0: 0.12±0.01  step 100: 0.30±0.05 …' in the checkpoints' colours: the final loss, mean ± s.d. over targets."""
    key = Text(no_wrap=True, overflow="ellipsis")
    key.append("final loss ", style="dim")
    for i, checkpoint in enumerate(overlay):
        r, g, b = ramp_rgb(i, len(overlay))
        spread = f"±{checkpoint.final_sd:.2g}" if checkpoint.final_sd is not None else ""
        key.append(("  " if i else "") + f"━ {short_number(checkpoint.step)}: {checkpoint.final:.3g}{spread}", style=f"bold rgb({r},{g},{b})")
    return key
