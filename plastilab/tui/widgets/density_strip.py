"""The Hessian density over checkpoints: one row a checkpoint, as TensorBoard's histogram view.

Each row is one ``hessian/density`` of a series, earliest on top; x is the eigenvalue over the
bulk (the equal-width bins the instrument puts on it, as the density pane draws them; the union
of every shown checkpoint's bulk, so rows line up), the shade is log density on one scale for
all rows (a row's blank cells lie outside that checkpoint's bulk or below a millionth of the
strip's peak). At the right of each row, ``▸`` marks mass beyond the bulk (the outliers) with
its share and how far it reaches. ``density_strip`` computes the numbers (tested by value);
``strip_lines`` lays them out as lines of text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.text import Text

from plastilab.core.events import Histogram
from plastilab.tui.widgets.chart import short_number
from plastilab.tui.widgets.eigenvalue_histogram import FLOOR, bulk_of

SHADES = "·░▒▓█"  # lowest to highest log density; a blank cell: no density there
OUTLIER_WIDTH = 16  # "▸0.05% to 7.23" and its gap


@dataclass(frozen=True)
class DensityStrip:
    series: str
    steps: list[int]  # one per row, in step order
    low: float  # the eigenvalue of the first column
    high: float  # ... and of the last
    log_density: np.ndarray  # (rows, columns): log10 density, NaN where the row has none
    outside: list[tuple[float, float]]  # each row's mass below and above its bulk (shares of the total)
    reach: list[tuple[float, float]]  # each row's whole span, outliers included
    total: int  # checkpoints kept (rows shows an even pick of them when they do not fit)

    @property
    def floor(self) -> float:
        finite = self.log_density[np.isfinite(self.log_density)]
        return float(finite.min()) if finite.size else 0.0

    @property
    def peak(self) -> float:
        finite = self.log_density[np.isfinite(self.log_density)]
        return float(finite.max()) if finite.size else 0.0


def even_pick(count: int, rows: int) -> list[int]:
    """At most ``rows`` indices of ``count``, evenly spread, the first and the last always in."""
    if count <= rows:
        return list(range(count))
    if rows <= 1:
        return [count - 1]
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, rows)})


def density_strip(events: list[Histogram], columns: int, rows: int) -> DensityStrip | None:
    """The strip of one series' densities (``events`` in step order) on ``columns`` x ``rows``."""
    usable = []
    for event in events:
        counts, edges = np.asarray(event.counts, dtype=float), np.asarray(event.edges, dtype=float)
        if len(counts) == 0 or len(edges) != len(counts) + 1 or not np.all(np.isfinite(edges)) or counts.sum() <= 0:
            continue
        x, density, _, span = bulk_of(counts, edges)
        if len(x) and float(density.max()) > 0:
            centres = (edges[:-1] + edges[1:]) / 2
            below, above = counts[centres < x[0]].sum(), counts[centres > x[-1]].sum()
            usable.append((event.step, x, density, (below / counts.sum(), above / counts.sum()), span))
    if not usable or columns < 1 or rows < 1:
        return None
    shown = [usable[i] for i in even_pick(len(usable), rows)]
    low = min(float(x[0]) for _, x, *_ in shown)
    high = max(float(x[-1]) for _, x, *_ in shown)
    grid = np.linspace(low, high, columns) if high > low else np.full(columns, low)
    peak = max(float(d.max()) for _, _, d, *_ in shown)
    table = np.full((len(shown), columns), np.nan)
    for row, (_, x, density, *_) in enumerate(shown):
        inside = (grid >= x[0] - 1e-12 * max(1.0, abs(x[0]))) & (grid <= x[-1] + 1e-12 * max(1.0, abs(x[-1])))
        values = np.interp(grid[inside], x, density) if len(x) > 1 else np.full(int(inside.sum()), density[0])
        logged = np.full(values.shape, np.nan)
        above = values >= FLOOR * peak
        logged[above] = np.log10(values[above])
        table[row, inside] = logged
    return DensityStrip(
        series=events[-1].series,
        steps=[s for s, *_ in shown],
        low=low,
        high=high,
        log_density=table,
        outside=[o for *_, o, _ in shown],
        reach=[span for *_, span in shown],
        total=len(usable),
    )


def shade_of(value: float, floor: float, peak: float) -> str:
    if not math.isfinite(value):
        return " "
    if peak <= floor:
        return SHADES[-1]
    level = int((value - floor) / (peak - floor) * len(SHADES))
    return SHADES[min(len(SHADES) - 1, max(0, level))]


def outlier_text(outside: tuple[float, float], reach: tuple[float, float]) -> str:
    """'▸0.05% to 7.2' for a row with mass above its bulk ('◂' below; both: '◂▸'); '' for none."""
    below, above = outside
    if below <= 0 and above <= 0:
        return ""
    side = ("◂" if below > 0 else "") + ("▸" if above > 0 else "")
    share = below + above
    share_text = f"{share:.2%}" if share >= 1e-4 else f"{share:.0e}"
    ends = ([f"{reach[0]:.3g}"] if below > 0 else []) + ([f"{reach[1]:.3g}"] if above > 0 else [])
    return f"{side}{share_text} to {'/'.join(ends)}"


def short_value(value: float) -> str:
    """'1.2e4', '0.03', '3': two significant digits, exponents without '+' and leading zeros."""
    text = f"{value:.2g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def strip_width(width: int, labels: list[str]) -> int:
    """Columns left for the shades after the step labels and the outlier column."""
    return max(1, width - max(len(label) for label in labels) - 2 - OUTLIER_WIDTH)


def strip_lines(strip: DensityStrip, width: int, style: str) -> list[Text]:
    """The rows (step, shades, outliers), then the x axis, then the key; each ``width`` cells."""
    labels = [short_number(step) for step in strip.steps]
    label_width = max(len(label) for label in labels)
    floor, peak = strip.floor, strip.peak
    lines = []
    for label, row, outside, reach in zip(labels, strip.log_density, strip.outside, strip.reach):
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{label:>{label_width}} ", style="dim")
        line.append("│", style="dim")
        line.append("".join(shade_of(v, floor, peak) for v in row), style=style)
        line.append("│ ", style="dim")
        line.append(outlier_text(outside, reach), style="bold")
        lines.append(line)
    columns = strip.log_density.shape[1]
    axis = Text(" " * (label_width + 1) + "└", style="dim", no_wrap=True, overflow="ellipsis")
    left, middle, right = f"{strip.low:.3g}", f"{(strip.low + strip.high) / 2:.3g}", f"{strip.high:.3g}"
    gap = columns - len(left) - len(middle) - len(right)
    if gap >= 2:
        axis.append(left + " " * (gap // 2) + middle + " " * (gap - gap // 2) + right + "┘ λ", style="dim")
    else:
        axis.append(f"{left} .. {right} λ", style="dim")
    lines.append(axis)
    key = Text(no_wrap=True, overflow="ellipsis")
    key.append("log density ", style="dim")
    key.append(f"{short_value(10 ** floor)} ", style="dim")
    key.append(SHADES, style=style)
    key.append(f" {short_value(10 ** peak)}", style="dim")
    key.append(" · ▸ outliers: mass beyond the bulk, to λ", style="dim")
    lines.append(key)
    return lines
