"""The paper's figures of one run: each function returns a figure, or None when the run lacks
the numbers for it (a scenario without instruments has no Hessian density).

Several seeds of a variant are drawn as their mean with a band from the lowest to the highest
seed, so a reader sees the spread and not one seed's luck.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastilab.analysis.figure_style import DIVERGING, SEQUENTIAL, new_figure, series_styles
from plastilab.analysis.runs import FINAL_LOSS, Run

TRAIN_LOSS = "train/loss"
LOSS_TAGS = {TRAIN_LOSS: "training loss", "td/loss": "TD loss"}
RETURN = "episode/return"
PLASTICITY_LOSS = "probe/plasticity_loss"
PROBE_CURVE = "probe/curve"
TARGET_CURVES = "probe/target_curves"  # one row a probe target
HESSIAN_DENSITY = "hessian/density"
COVARIANCE = "gradients/covariance"


def seed_bands(frame: Any, x: str) -> dict[str, Any]:
    """Per variant: x, the mean over seeds, the lowest and highest seed, and the seed count."""
    bands = {}
    for variant, rows in frame.groupby("variant", sort=False):
        stats = rows.groupby(x)["value"].agg(["mean", "min", "max"])
        bands[variant] = (stats.index.to_numpy(), stats["mean"].to_numpy(), stats["min"].to_numpy(), stats["max"].to_numpy(), rows["series"].nunique())
    return bands


def _band_label(bands: dict[str, Any]) -> str:
    n = max(b[4] for b in bands.values())
    return f"mean of {n} seeds; band: lowest to highest seed" if n > 1 else "one seed"


def _draw_bands(ax: Any, bands: dict[str, Any], marker: str | None = None) -> None:
    styles = series_styles(list(bands))
    for variant, (xs, mean, low, high, n_seeds) in bands.items():
        ax.plot(xs, mean, label=variant, marker=marker, **styles[variant])
        if n_seeds > 1:
            ax.fill_between(xs, low, high, color=styles[variant]["color"], alpha=0.2, linewidth=0)


def final_loss_by_task(run: Run) -> Any | None:
    """Figure 1: each task's final loss by variant; chance level when the targets are classes."""
    table = run.per_task(FINAL_LOSS)
    if table.empty:
        return None
    bands = seed_bands(table, "task")
    fig, (ax,) = new_figure(1, panel_height=2.8)
    _draw_bands(ax, bands, marker="o")
    n_classes = run.scenario.get("training", {}).get("n_classes") if run.scenario.get("kind") == "adam_instability" else None
    if n_classes:
        ax.axhline(math.log(n_classes), color="#777777", linewidth=0.8, linestyle=":")
        ax.annotate(f"chance, ln {n_classes}", (1, math.log(n_classes)), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=6, color="#555555")
    ax.set_xticks(sorted(set(table["task"])))
    ax.set_xlabel("task")
    ax.set_ylabel("final loss on the task")
    ax.set_title(f"{run.scenario.get('name', run.path.name)}: final loss of each task\n{_band_label(bands)}")
    _legend_below(fig, ax)
    return fig


def tag_over_steps(run: Run, tag: str, ylabel: str, title: str, marker: str | None = None, log: bool = False) -> Any | None:
    """A scalar tag over training steps by variant, task boundaries as thin vertical lines.

    ``log``: a log scale when every value is positive, so a loss's spike at a new task and its
    fall to near zero both stay readable.
    """
    rows = run.tag(tag)
    if rows.empty:
        return None
    bands = seed_bands(rows, "step")
    fig, (ax,) = new_figure(1, panel_height=2.8)
    boundaries = [step for step in run.task_boundaries() if step > 0]
    for step in boundaries:
        ax.axvline(step, color="#666666", linewidth=0.7, linestyle="--", zorder=0)
    _draw_bands(ax, bands, marker=marker)
    if log and (rows["value"].dropna() > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("step (dashed: a new task)" if boundaries else "step")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n{_band_label(bands)}")
    _legend_below(fig, ax)
    return fig


def _legend_below(fig: Any, ax: Any) -> None:
    """The legend under the axes, never over the data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))


def learning_curves(run: Run) -> Any | None:
    """The training loss (a DQN's TD loss on the block MDP) over steps."""
    tags = set(run.scalars["tag"])
    tag = next((t for t in LOSS_TAGS if t in tags), TRAIN_LOSS)
    return tag_over_steps(run, tag, LOSS_TAGS[tag], f"{run.scenario.get('name', run.path.name)}: learning curves", log=True)


def episode_returns(run: Run) -> Any | None:
    return tag_over_steps(run, RETURN, "episode return", f"{run.scenario.get('name', run.path.name)}: episode return")


def plasticity_loss(run: Run) -> Any | None:
    return tag_over_steps(run, PLASTICITY_LOSS, "plasticity loss", "Plasticity loss at the checkpoints", marker="o")


def _per_variant_arrays(run: Run, kind: str, tag: str) -> dict[str, list[Any]]:
    """Array events by variant, from the variant's first seed only (arrays do not average)."""
    from plastilab.analysis.runs import parse_series

    first_series: dict[str, str] = {}
    for series in run.series:
        first_series.setdefault(parse_series(series)[0], series)
    chosen = set(first_series.values())
    by_variant: dict[str, list[Any]] = {}
    for event in run.arrays(kind=kind, tag=tag):
        if event.series in chosen:
            by_variant.setdefault(parse_series(event.series)[0], []).append(event)
    return by_variant


def _step_colours(fig: Any, axes: list[Any], steps: list[int]) -> Any:
    """A colour per checkpoint step, early dark to late yellow, with one colour bar for all panels."""
    from matplotlib import cm, colors

    norm = colors.Normalize(vmin=min(steps), vmax=max(steps) if max(steps) > min(steps) else min(steps) + 1)
    mapper = cm.ScalarMappable(norm=norm, cmap=SEQUENTIAL)
    fig.colorbar(mapper, ax=axes, label="checkpoint step", shrink=0.9)
    return mapper


def probe_curves(run: Run) -> Any | None:
    """The plasticity probe's learning curve at every checkpoint, one panel per variant, with the
    spread across the probe's targets (lowest to highest target, where the run logged them):
    §3.3's later checkpoints fit slower and vary more between targets."""
    by_variant = _per_variant_arrays(run, "curve", PROBE_CURVE)
    if not by_variant:
        return None
    spreads = {(variant, e.step): np.asarray(e.values, dtype=float) for variant, events in _per_variant_arrays(run, "matrix", TARGET_CURVES).items() for e in events}
    fig, axes = new_figure(len(by_variant), width=_width(len(by_variant)))
    mapper = _step_colours(fig, axes, [e.step for events in by_variant.values() for e in events])
    for ax, (variant, events) in zip(axes, by_variant.items()):
        for event in events:
            colour = mapper.to_rgba(event.step)
            targets = spreads.get((variant, event.step))
            if targets is not None and targets.shape[-1] == len(event.x):
                ax.fill_between(event.x, targets.min(axis=0), targets.max(axis=0), color=colour, alpha=0.15, linewidth=0)
            ax.plot(event.x, event.y, color=colour, linewidth=1.0)
        if all((np.asarray(e.y) > 0).all() for e in events):
            ax.set_yscale("log")  # raw regression losses span decades between checkpoints
        ax.set_title(variant)
        ax.set_xlabel("probe step")
    axes[0].set_ylabel("probe loss")
    fig.suptitle("Plasticity probe: fitting fresh targets from each checkpoint", fontsize=8)
    return fig


def hessian_density(run: Run) -> Any | None:
    """The Hessian eigenvalue density at every checkpoint (log scale), one panel per variant."""
    by_variant = _per_variant_arrays(run, "histogram", HESSIAN_DENSITY)
    if not by_variant:
        return None
    fig, axes = new_figure(len(by_variant), width=_width(len(by_variant)))
    mapper = _step_colours(fig, axes, [e.step for events in by_variant.values() for e in events])
    # Six decades below the highest peak: the smoothed density's far tails are numerical dust.
    floor = max(float(np.max(e.counts)) for events in by_variant.values() for e in events) * 1e-6 or 1e-12
    for ax, (variant, events) in zip(axes, by_variant.items()):
        for event in events:
            edges = np.asarray(event.edges, dtype=float)
            counts = np.asarray(event.counts, dtype=float)
            ax.plot((edges[:-1] + edges[1:]) / 2, np.maximum(counts, floor), color=mapper.to_rgba(event.step), linewidth=0.9)
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
        ax.set_title(variant)
        ax.set_xlabel("eigenvalue")
    axes[0].set_ylabel("density")
    fig.suptitle("Hessian eigenvalue density over training", fontsize=8)
    return fig


def covariance_heatmaps(run: Run) -> Any | None:
    """The last gradient-covariance matrix of each variant (cosine between per-example gradients)."""
    by_variant = _per_variant_arrays(run, "matrix", COVARIANCE)
    if not by_variant:
        return None
    last = {variant: events[-1] for variant, events in by_variant.items()}
    limit = max(float(np.nanmax(np.abs(e.values))) for e in last.values()) or 1.0
    limit = 1.0 if limit <= 1.0 else limit
    fig, axes = new_figure(len(last), width=_width(len(last)), panel_height=1.9)
    image = None
    for ax, (variant, event) in zip(axes, last.items()):
        image = ax.imshow(event.values, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"{variant}, step {event.step}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(image, ax=axes, label="gradient cosine", shrink=0.9)
    fig.suptitle("Gradient covariance: cosine between per-example gradients", fontsize=8)
    return fig


def _width(n_panels: int) -> float:
    from plastilab.analysis.figure_style import COLUMN_WIDTH_IN, PAGE_WIDTH_IN

    return COLUMN_WIDTH_IN if n_panels == 1 else PAGE_WIDTH_IN


RUN_FIGURES = {
    "figure1_final_loss_by_task": final_loss_by_task,
    "learning_curves": learning_curves,
    "episode_returns": episode_returns,
    "plasticity_loss": plasticity_loss,
    "probe_curves": probe_curves,
    "hessian_density": hessian_density,
    "covariance": covariance_heatmaps,
}
