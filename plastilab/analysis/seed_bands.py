"""Several seeds of a variant as one line: their mean, with a 95% Student-t interval as a band.

The interval is the mean's (``t_{0.975, n-1} · sd / √n``, the one every table and summary reports),
so a reader compares variants as the paper does, not one seed's luck; each seed can be drawn
under it as a thin line on request. With one seed there is no band, and the title says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plastilab.analysis.figure_style import BAND_ALPHA, SEED_LINE, counted, series_styles
from plastilab.core.statistics import column_intervals


@dataclass(frozen=True)
class SeedBand:
    """One variant over x: the mean over seeds, the 95% t interval (NaN where fewer than two
    seeds have a value) and each seed's own values (rows of ``per_seed``, NaN where missing)."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    per_seed: np.ndarray  # (n_seeds, len(x))
    geometric: bool = False  # mean and interval of log values (a loss on a log axis)

    @property
    def n_seeds(self) -> int:
        return int(self.per_seed.shape[0])


def seed_bands(frame: Any, x: str, geometric: bool = False) -> dict[str, SeedBand]:
    """Per variant (in first-seen order): a SeedBand over the values of ``x`` in ``frame``
    (columns variant, series, ``x``, value; one series a seed).

    ``geometric`` (for a log axis; every value must be positive): the mean and interval of the
    logarithms, exponentiated, so the band is the log axis's own and never dips below zero.
    """
    bands = {}
    for variant, rows in frame.groupby("variant", sort=False):
        wide = rows.pivot_table(index="series", columns=x, values="value", aggfunc="last", dropna=False)
        per_seed = wide.to_numpy(dtype=float)
        if geometric:
            mean, low, high = (np.exp(a) for a in column_intervals(np.log(per_seed)))
        else:
            mean, low, high = column_intervals(per_seed)
        bands[variant] = SeedBand(wide.columns.to_numpy(), mean, low, high, per_seed, geometric)
    return bands


def band_caption(bands: dict[str, SeedBand]) -> str:
    counts = sorted({b.n_seeds for b in bands.values()})
    n = counted(counts[-1], "seed") if len(counts) == 1 else f"{counts[0]}–{counts[-1]} seeds"
    if counts[-1] < 2:
        return "1 seed (no interval)"
    if any(b.geometric for b in bands.values()):
        return f"geometric mean of {n}; band: 95% t interval of the log"
    return f"mean of {n}; band: 95% t interval"


def draw_bands(ax: Any, bands: dict[str, SeedBand], marker: str | None = None, each_seed: bool = False) -> None:
    styles = series_styles(list(bands))
    for variant, band in bands.items():
        style = styles[variant]
        if each_seed and band.n_seeds > 1:
            for row in band.per_seed:
                ax.plot(band.x, row, color=style["color"], linestyle="-", **SEED_LINE)
        ax.plot(band.x, band.mean, label=variant, marker=marker, **style)
        if band.n_seeds > 1:
            ax.fill_between(band.x, band.low, band.high, color=style["color"], alpha=BAND_ALPHA, linewidth=0)
