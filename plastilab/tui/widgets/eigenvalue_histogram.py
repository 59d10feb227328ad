"""The Hessian's eigenvalue density: one outline per series, from its latest Histogram event.

A trained network's spectrum is a bulk near zero (most of the mass) and a few large outliers.
Drawn on a linear axis over the whole span, the bulk is one blob beside a far spike. So the pane
shows the bulk: the x-range is the histogram's equal-width bins (the instrument puts them on the
bulk; any wider first or last bin holds the outliers), the y-axis is log density (share per unit
of eigenvalue), and the outliers are named in the caption with the mass beyond the bulk and the
top eigenvalues the run logged. The log-scale key does not change this pane: its axis is always log.
"""

from __future__ import annotations

import math

import numpy as np

from plastilab.core.events import Histogram
from plastilab.tui.palette import series_rgb
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.chart import Chart
from plastilab.tui.widgets.seed_bands import EventMemo, drawn_units

HINT = "no hessian/density yet: scenarios with the Hessian instrument fill this pane"
FLOOR = 1e-6  # log density is drawn down to this fraction of the peak
FRAME_ROWS = 4  # the title, the frame's two lines and the x labels around the plot's rows


def bulk_of(counts: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float]]:
    """(bin centres, density) over the equal-width bins; the mass outside them and its range."""
    widths = np.diff(edges)
    typical = float(np.median(widths))
    fine = np.abs(widths - typical) <= 1e-6 * max(typical, 1e-300) + 1e-12 * max(abs(edges[0]), abs(edges[-1]), 1.0)
    if not fine.any():
        fine[:] = True
    centres = (edges[:-1] + edges[1:]) / 2
    density = counts / np.where(widths > 0, widths, np.inf)
    outside = float(counts[~fine].sum())
    span = (float(edges[0]), float(edges[-1]))
    return centres[fine], density[fine], outside, span


class EigenvalueHistogram(Chart):
    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder=HINT, **kwargs)
        self._memo = EventMemo()  # each series' bulk and each variant's mean, while its events stay the latest

    def draw(self, state: RunState, log_y: bool, hidden: set[str], over_seeds: bool = False) -> str:
        """Each shown series' latest density (``over_seeds``: each variant's mean density over its
        seeds, on one grid across their bulks); returns the caption."""
        histograms: dict[str, Histogram] = state.arrays.get("histogram", {})  # type: ignore[assignment]
        drawn = []  # (colour index, x, log density, latest event, mass outside the bulk, its range, top λ)
        seeds_in = []  # how many series each drawn line stands for
        for unit in drawn_units(state.series, histograms, hidden, over_seeds):
            bulks = [b for b in (self._memo.get(name, (histograms[name],), lambda e=histograms[name]: event_bulk(e)) for name in unit) if b]
            if not bulks:
                continue
            if len(bulks) == 1:
                event, x, density, outside, span = bulks[0]
            else:
                event, x, density, outside, span = self._memo.get(tuple(unit), tuple(b[0] for b in bulks), lambda: mean_bulk(bulks))
            peak = float(density.max()) if len(density) else 0.0
            if peak <= 0:
                continue
            y = np.log10(np.maximum(density, FLOOR * peak))
            index = state.series.index(unit[0]) if unit[0] in state.series else len(drawn)
            tops = [(state.latest.get(b[0].series) or {}).get("hessian/top_eigenvalue") for b in bulks]
            top = max((t for t in tops if t is not None), default=None)
            drawn.append((index, x, y, event, outside, span, top))
            seeds_in.append(len(bulks))
        if not drawn:
            self.show_placeholder(HINT)
            return ""
        self.begin()
        plt = self.plt
        low = min(float(y.min()) for _, _, y, *_ in drawn)
        high = max(float(y.max()) for _, _, y, *_ in drawn)
        if len(drawn) == 1:
            index, x, y, *_ = drawn[0]
            plt.bar(x.tolist(), (y - low).tolist(), color=series_rgb(index), minimum=0, width=1.0)
            self._y_axis = (0.0, max(high - low, 1e-9), low)  # bars rise from 0: labels add low back
        else:
            for index, x, y, *_ in drawn:
                plt.plot(x.tolist(), y.tolist(), marker="braille", color=series_rgb(index))
            self._y_axis = (low, high, 0.0)
        left = min(float(x.min()) for _, x, *_ in drawn)
        right = max(float(x.max()) for _, x, *_ in drawn)
        ticks = np.linspace(left, right, 5)
        plt.xticks(list(ticks), [f"{t:.3g}" for t in ticks])
        event = drawn[0][3]
        caption = f"{event.tag} at step {max(d[3].step for d in drawn):,} · log density, bulk"
        if len(drawn) == 1 and seeds_in[0] == 1:
            caption += f" · {event.series}"
        if max(seeds_in) > 1:
            caption += " · mean over seeds"
        outliers = [self._outliers(state, d) for d in drawn]
        caption += "".join(o for o in outliers if o)
        plt.title(caption)
        self._changed()
        return caption

    _y_axis: tuple[float, float, float] | None = None  # (low, high, offset) of the log10 axis

    def _build(self, width: int, height: int):
        # The y ticks are set for the height the figure gets: no more labels than rows. With more
        # (five labels on a three-row pane at 80x24), plotext printed one label over another, and
        # which one won changed from one render to the next.
        if self._y_axis is not None and self.lines is None and not self.placeholder:
            low, high, offset = self._y_axis
            if math.isfinite(low) and math.isfinite(high):
                count = max(2, min(5, height - FRAME_ROWS))
                ticks = np.linspace(low, high if high - low >= 1e-9 else low + 1.0, count)
                self.plt.yticks(list(ticks), [f"{10 ** (t + offset):.2g}" for t in ticks])
        return super()._build(width, height)

    @staticmethod
    def _outliers(state: RunState, drawn: tuple) -> str:
        """' · outliers: 0.05% up to 7.2 (top λ 7.2)' for a series (or variant) with mass beyond the bulk."""
        _, x, _, event, outside, span, top = drawn
        if outside <= 0:
            return ""
        beyond = f"{span[0]:.3g}..{span[1]:.3g}"
        text = f" · outliers: {outside:.2%} of the mass, range {beyond}"
        return text + (f", top λ {top:.3g}" if top is not None else "")


def event_bulk(event: Histogram) -> tuple | None:
    """(event, *bulk_of) for a well-formed histogram; None for one the pane cannot draw."""
    counts = np.asarray(event.counts, dtype=float)
    edges = np.asarray(event.edges, dtype=float)
    if len(counts) == 0 or len(edges) != len(counts) + 1 or not np.all(np.isfinite(edges)):
        return None
    return (event, *bulk_of(counts, edges))


GRID_POINTS = 100  # a variant's mean density: its seeds' bulks on this many points


def mean_bulk(bulks: list[tuple]) -> tuple:
    """(latest event, x, mean density, mean mass outside the bulk, widest range) over seeds'
    ``(event, centres, density, outside, span)``: each seed's density on one grid across every
    seed's bulk, 0 outside its own (the density of all seeds' eigenvalues pooled, each weighted alike)."""
    left = min(float(b[1][0]) for b in bulks)
    right = max(float(b[1][-1]) for b in bulks)
    x = np.linspace(left, right, GRID_POINTS) if right > left else bulks[0][1][:1]
    density = np.mean([np.interp(x, centres, d, left=0.0, right=0.0) for _, centres, d, _, _ in bulks], axis=0)
    outside = float(np.mean([b[3] for b in bulks]))
    span = (min(b[4][0] for b in bulks), max(b[4][1] for b in bulks))
    return max((b[0] for b in bulks), key=lambda e: e.step), x, density, outside, span
