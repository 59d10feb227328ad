"""The Hessian eigenvalue density over training, as the literature draws it (Ghorbani et al. 2019;
the paper's Fig. 4/5): stochastic Lanczos quadrature broadened by a Gaussian of stated width,
evaluated on one fixed grid shared by every checkpoint and variant compared, log-y from a stated
floor, one curve per checkpoint.

The run's raw quadrature (``hessian/quadrature``: each Lanczos chain's nodes and weights) is
broadened here, so the width is the figure's choice and the same for every curve. Seeds and
Lanczos starts are pooled: the mean of their densities is itself an SLQ estimate with more starts.
A run that kept only the binned density (``hessian/density``) is broadened from its bin centres.
Eigenvalues beyond the bulk (the outliers, each ~1/n_params of the mass) are marked where they
lie; where the density is below the floor nothing is drawn, so no line ever joins a lone outlier
to the bulk across an empty stretch of the spectrum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plastilab.analysis.figure_arrays import arrays_by_variant, seed_count, step_colours
from plastilab.analysis.figure_style import DENSITY_DECADES, counted, new_figure, page_width
from plastilab.analysis.runs import Run

QUADRATURE = "hessian/quadrature"
DENSITY = "hessian/density"
BROADENING = 0.01  # the Gaussian's width, as a share of the width of the bulk of the spectrum
POINTS_PER_WIDTH = 3  # grid points per broadening width: each Gaussian is resolved
MAX_POINTS = 12_000  # a grid this long at most: far outliers widen the Gaussian instead
REACH = 5.0  # the grid reaches this many widths beyond the extreme eigenvalues (mass left: 3e-7)
BULK_TAIL = 5e-4  # mass left out each side of the bulk (as the instrument's): outliers' share
GAP = 4.0  # widths of empty spectrum that set an eigenvalue apart from the bulk ...
BULK_GAP = 0.25  # ... when that is also this share of the bulk's width (the instrument's outer-bin rule)


@dataclass(frozen=True)
class Quadrature:
    """Pooled SLQ nodes and weights of one variant at one checkpoint; weights sum to 1."""

    nodes: np.ndarray
    weights: np.ndarray
    n_seeds: int
    n_starts: int  # Lanczos chains a seed (1 for a density rebuilt from bins)


@dataclass(frozen=True)
class DensityCurves:
    """Every curve of the figure on one grid: ``curves[variant][step]`` (before any log axis)."""

    grid: np.ndarray
    sigma: float
    sigma_rule: str  # how sigma was chosen, for the caption
    curves: dict[str, dict[int, np.ndarray]]
    outliers: dict[str, dict[int, np.ndarray]]  # eigenvalues beyond the bulk, per curve
    quadratures: dict[str, dict[int, Quadrature]]
    bulk_edge: float  # the bulk lies within ± this

    @property
    def linear_to(self) -> float | None:
        """Where the x axis turns logarithmic (symlog), when outliers lie far beyond the bulk."""
        reach = max(abs(self.grid[0]), abs(self.grid[-1]))
        return 2 * self.bulk_edge if self.bulk_edge > 0 and reach > 20 * self.bulk_edge else None

    @property
    def floor(self) -> float:
        peak = max(float(c.max()) for steps in self.curves.values() for c in steps.values())
        return peak * 10.0**-DENSITY_DECADES


def _from_quadrature(events: list[Any]) -> Quadrature | None:
    nodes, weights = [], []
    for event in events:
        labels = list(event.labels or ())
        values = np.asarray(event.values, dtype=float)
        for i, label in enumerate(labels):
            if label.startswith("nodes ") and f"weights {label[6:]}" in labels:
                nodes.append(values[i])
                weights.append(values[labels.index(f"weights {label[6:]}")])
    if not nodes:
        return None
    n_chains = len(nodes)
    return Quadrature(np.concatenate(nodes), np.concatenate(weights) / n_chains, len(events), n_chains // len(events))


def _from_bins(events: list[Any]) -> Quadrature:
    nodes = [(np.asarray(e.edges[:-1], dtype=float) + np.asarray(e.edges[1:], dtype=float)) / 2 for e in events]
    weights = [np.asarray(e.counts, dtype=float) / max(float(np.sum(e.counts)), 1e-300) for e in events]
    return Quadrature(np.concatenate(nodes), np.concatenate(weights) / len(events), len(events), 1)


def run_quadratures(run: Run) -> dict[str, dict[int, Quadrature]]:
    """Per variant and checkpoint, the seeds' quadratures pooled (or their binned densities)."""
    raw = arrays_by_variant(run, "matrix", QUADRATURE)
    binned = arrays_by_variant(run, "histogram", DENSITY)
    out: dict[str, dict[int, Quadrature]] = {}
    for variant in dict.fromkeys([*raw, *binned]):
        for step in sorted({*raw.get(variant, {}), *binned.get(variant, {})}):
            quadrature = _from_quadrature(raw.get(variant, {}).get(step, []))
            if quadrature is None and binned.get(variant, {}).get(step):
                quadrature = _from_bins(binned[variant][step])
            if quadrature is not None and np.isfinite(quadrature.nodes).all() and quadrature.weights.sum() > 0:
                out.setdefault(variant, {})[step] = quadrature
    return out


def broadened_density(nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, sigma: float) -> np.ndarray:
    """``Σ_j w_j N(λ; node_j, σ²)`` at every grid point: a probability density in λ."""
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (np.exp(-0.5 * z * z) * weights[None, :]).sum(axis=1) / (sigma * math.sqrt(2 * math.pi))


def bulk(quadrature: Quadrature) -> tuple[float, float]:
    """Where the bulk of the spectrum lies: the quadrature's quantiles BULK_TAIL and 1 - BULK_TAIL.
    The large outliers each carry ~1/n_params of the mass, so they fall outside."""
    order = np.argsort(quadrature.nodes)
    nodes = quadrature.nodes[order]
    mass = np.cumsum(quadrature.weights[order]) / quadrature.weights.sum()
    return float(nodes[min(np.searchsorted(mass, BULK_TAIL), len(nodes) - 1)]), float(nodes[min(np.searchsorted(mass, 1 - BULK_TAIL), len(nodes) - 1)])


def shared_grid(quadratures: list[Quadrature], broadening: float = BROADENING) -> tuple[np.ndarray, float, str]:
    """One grid for all curves compared, the Gaussian's width on it, and how that width was set.

    The width is ``broadening`` times the bulk's width (the bulk of every quadrature together),
    so the bulk's shape is resolved; where outliers stretch the range so far that such a grid
    would pass MAX_POINTS, the width grows to what MAX_POINTS can resolve, and the caption says so.
    """
    lowest = min(float(q.nodes.min()) for q in quadratures)
    highest = max(float(q.nodes.max()) for q in quadratures)
    edges = [bulk(q) for q in quadratures]
    spread = (max(e[1] for e in edges) - min(e[0] for e in edges)) or (highest - lowest) or max(abs(highest), 1.0)
    sigma, rule = broadening * spread, f"{broadening:.0%} of the bulk's width"
    least = (highest - lowest) * POINTS_PER_WIDTH / (MAX_POINTS - 2 * REACH * POINTS_PER_WIDTH)
    if least > sigma:
        sigma, rule = least, f"the finest a {MAX_POINTS:,}-point grid resolves over the outliers' range"
    step = sigma / POINTS_PER_WIDTH
    n = int(math.ceil((highest - lowest + 2 * REACH * sigma) / step)) + 1
    return lowest - REACH * sigma + step * np.arange(n), sigma, rule


def outliers(quadrature: Quadrature, sigma: float) -> np.ndarray:
    """The isolated eigenvalues: nodes cut off from the bulk by an empty stretch of the spectrum.

    Sorted nodes form one cluster while each gap to the next is under both GAP widths and a
    quarter of the bulk's width (a Lanczos chain's nodes are sparse: gaps of a few widths inside
    the bulk are sampling, not structure); the cluster with the most mass is the bulk, every node
    outside it an outlier.
    """
    order = np.argsort(quadrature.nodes)
    nodes, weights = quadrature.nodes[order], quadrature.weights[order]
    low, high = bulk(quadrature)
    apart = max(GAP * sigma, BULK_GAP * (high - low))
    cluster = np.concatenate([[0], np.cumsum(np.diff(nodes) > apart)])
    main = np.argmax(np.bincount(cluster, weights=weights))
    return nodes[cluster != main]


def density_curves(run: Run, broadening: float = BROADENING) -> DensityCurves | None:
    quadratures = run_quadratures(run)
    if not quadratures:
        return None
    every = [q for steps in quadratures.values() for q in steps.values()]
    grid, sigma, rule = shared_grid(every, broadening)
    edge = max(max(abs(low), abs(high)) for low, high in map(bulk, every))
    curves = {v: {s: broadened_density(q.nodes, q.weights, grid, sigma) for s, q in steps.items()} for v, steps in quadratures.items()}
    marks = {v: {s: outliers(q, sigma) for s, q in steps.items()} for v, steps in quadratures.items()}
    return DensityCurves(grid, sigma, rule, curves, marks, quadratures, edge)


def hessian_density(run: Run, each_seed: bool = False) -> Any | None:
    """One panel per variant, one curve per checkpoint (colour: training time); ``each_seed`` is
    not used: the seeds' densities are pooled, which is what SLQ averages anyway."""
    data = density_curves(run)
    if data is None:
        return None
    floor = data.floor
    fig, axes = new_figure(len(data.curves), width=page_width(len(data.curves)), panel_height=2.2)
    mapper = step_colours(fig, axes, [s for steps in data.curves.values() for s in steps])
    for ax, (variant, steps) in zip(axes, data.curves.items()):
        for step, density in steps.items():
            colour = mapper.to_rgba(step)
            ax.plot(data.grid, np.where(density >= floor, density, np.nan), color=colour, linewidth=0.9)
            marked = data.outliers[variant][step]
            if len(marked):
                ax.plot(marked, np.full(len(marked), floor * 10), linestyle="none", marker="v", markersize=3, color=colour)
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
        ax.set_xlim(data.grid[0], data.grid[-1])
        if data.linear_to:
            ax.set_xscale("symlog", linthresh=data.linear_to, linscale=1.5)
        ax.set_title(variant)
        ax.set_xlabel("eigenvalue λ")
    axes[0].set_ylabel("density")
    by_variant = arrays_by_variant(run, "matrix", QUADRATURE) or arrays_by_variant(run, "histogram", DENSITY)
    starts = max(q.n_starts for steps in data.quadratures.values() for q in steps.values())
    pooled = f"{counted(seed_count(by_variant), 'seed')} × {counted(starts, 'Lanczos start')} pooled"
    fig.suptitle(
        f"Hessian eigenvalue density over training (stochastic Lanczos quadrature; {pooled})\n"
        f"Gaussian broadening σ = {data.sigma:.3g} ({data.sigma_rule});\n"
        f"log axis from {10.0**-DENSITY_DECADES:g} × the peak; ▼ eigenvalues apart from the bulk"
        + (f"; λ linear within ±{data.linear_to:.2g}, logarithmic beyond" if data.linear_to else ""),
        fontsize=8,
    )
    return fig
