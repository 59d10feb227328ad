"""The house style of every figure, set here and nowhere else: fonts and sizes for a one- and a
two-column paper, the colour-blind-safe Okabe–Ito palette, the band and seed-line look, the floor
of log-density axes, and file writing (PNG at 300 dpi; PDF and SVG with their text kept as text).

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot), so nothing depends on a
display or on pyplot's global state, and the Agg canvas draws every format.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plastilab.analysis.errors import require

# Okabe & Ito (2008), colour-blind safe; yellow last, it is faint on white.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# A second cue besides colour, for print in grey and for the ninth variant on.
LINESTYLES = ("-", "--", "-.", ":")
SEQUENTIAL = "viridis"  # checkpoints over time
DIVERGING = "RdBu_r"  # signed matrices (covariance cosines)

COLUMN_WIDTH_IN = 3.4  # one column of a two-column paper
PAGE_WIDTH_IN = 7.0  # both columns (or a one-column paper's text width)
FORMATS = ("png", "svg", "pdf")

BAND_ALPHA = 0.2  # the 95% interval's band under a mean line
SEED_LINE = {"linewidth": 0.5, "alpha": 0.45}  # one seed, drawn on request under the mean
NEUTRAL = "#666666"  # reference lines: task boundaries, chance level, block edges
# A log-density axis starts this many decades below the highest peak it shows: the smoothed
# density's far tails are numerical dust, and a density has no log of zero.
DENSITY_DECADES = 6

STYLE: dict[str, Any] = {
    # DejaVu Sans ships with matplotlib: every machine draws the same glyphs and embeds them.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "lines.markersize": 3.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "svg.fonttype": "none",  # text stays text in SVG
    "pdf.fonttype": 42,  # TrueType in PDF, editable in a vector editor
}


@contextmanager
def styled() -> Iterator[None]:
    matplotlib = require("matplotlib", "figures", "plastilab figures")
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(n_panels: int = 1, ncols: int | None = None, width: float = COLUMN_WIDTH_IN, panel_height: float = 2.1):
    """A figure of ``n_panels`` axes in a grid (row-major), unused cells hidden."""
    from matplotlib.figure import Figure  # deferred: pulls in matplotlib

    ncols = ncols or min(n_panels, 3)
    nrows = -(-n_panels // ncols)
    fig = Figure(figsize=(width, panel_height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def counted(n: int, noun: str) -> str:
    """"1 seed", "5 seeds", "128 agents": every title says how many runs a figure averages."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def page_width(n_panels: int) -> float:
    """One column for a single panel, the page for several."""
    return COLUMN_WIDTH_IN if n_panels == 1 else PAGE_WIDTH_IN


def series_styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A colour (and past eight, a dash pattern) per name, fixed by first-seen order."""
    return {
        name: {"color": OKABE_ITO[i % len(OKABE_ITO)], "linestyle": LINESTYLES[(i // len(OKABE_ITO)) % len(LINESTYLES)]}
        for i, name in enumerate(dict.fromkeys(names))
    }


def save(fig: Any, out: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, metadata=_metadata(fmt))
        paths.append(path)
    return paths


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation date: the same run gives byte-identical SVG/PDF files.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
