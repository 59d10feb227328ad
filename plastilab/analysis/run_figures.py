"""The paper's figures of one run: each function returns a figure, or None when the run lacks
the numbers for it (a scenario without instruments has no Hessian density).

Several seeds of a variant are drawn as their mean with a 95% t interval (``seed_bands``), each
seed as a thin line under it on request (``each_seed``); every title says how many seeds.
The Hessian density and the gradient covariance have modules of their own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastilab.analysis.covariance_figures import covariance_heatmaps
from plastilab.analysis.figure_arrays import arrays_by_variant, seed_count, step_colours
from plastilab.analysis.figure_style import NEUTRAL, counted, new_figure, page_width
from plastilab.analysis.runs import FINAL_LOSS, Run
from plastilab.analysis.seed_bands import band_caption, draw_bands, seed_bands
from plastilab.analysis.spectrum_figures import hessian_density
from plastilab.analysis.variant_comparison import chance_classes, variant_comparison

TRAIN_LOSS = "train/loss"
LOSS_TAGS = {TRAIN_LOSS: "training loss", "td/loss": "TD loss"}
RETURN = "episode/return"
PLASTICITY_LOSS = "probe/plasticity_loss"
PROBE_CURVE = "probe/curve"
TARGET_CURVES = "probe/target_curves"  # one row a probe target


def final_loss_by_task(run: Run, each_seed: bool = False) -> Any | None:
    """Figure 1: each task's final loss by variant; chance level when the targets are classes."""
    table = run.per_task(FINAL_LOSS)
    if table.empty:
        return None
    bands = seed_bands(table, "task")
    fig, (ax,) = new_figure(1, panel_height=2.8)
    draw_bands(ax, bands, marker="o", each_seed=each_seed)
    n_classes = chance_classes(run.scenario)
    if n_classes:
        ax.axhline(math.log(n_classes), color=NEUTRAL, linewidth=0.8, linestyle=":")
        ax.annotate(f"chance, ln {n_classes}", (1, math.log(n_classes)), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=6, color="#555555")
    ax.set_xticks(sorted(set(table["task"])))
    ax.set_xlabel("task")
    ax.set_ylabel("final loss on the task")
    ax.set_title(f"{run.scenario.get('name', run.path.name)}: final loss of each task\n{band_caption(bands)}")
    _legend_below(fig, ax)
    return fig


def tag_over_steps(run: Run, tag: str, ylabel: str, title: str, marker: str | None = None, log: bool = False, each_seed: bool = False) -> Any | None:
    """A scalar tag over training steps by variant, task boundaries as thin vertical lines.

    ``log``: a log scale when every value is positive, so a loss's spike at a new task and its
    fall to near zero both stay readable.
    """
    rows = run.tag(tag)
    if rows.empty:
        return None
    log = log and bool((rows["value"].dropna() > 0).all())
    bands = seed_bands(rows, "step", geometric=log)
    fig, (ax,) = new_figure(1, panel_height=2.8)
    boundaries = [step for step in run.task_boundaries() if step > 0]
    for step in boundaries:
        ax.axvline(step, color=NEUTRAL, linewidth=0.7, linestyle="--", zorder=0)
    draw_bands(ax, bands, marker=marker, each_seed=each_seed)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step (dashed: a new task)" if boundaries else "step")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n{band_caption(bands)}")
    _legend_below(fig, ax)
    return fig


def _legend_below(fig: Any, ax: Any) -> None:
    """The legend under the axes, never over the data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))


def learning_curves(run: Run, each_seed: bool = False) -> Any | None:
    """The training loss (a DQN's TD loss on the block MDP) over steps."""
    tags = set(run.scalars["tag"])
    tag = next((t for t in LOSS_TAGS if t in tags), TRAIN_LOSS)
    return tag_over_steps(run, tag, LOSS_TAGS[tag], f"{run.scenario.get('name', run.path.name)}: learning curves", log=True, each_seed=each_seed)


def episode_returns(run: Run, each_seed: bool = False) -> Any | None:
    return tag_over_steps(run, RETURN, "episode return", f"{run.scenario.get('name', run.path.name)}: episode return", each_seed=each_seed)


def plasticity_loss(run: Run, each_seed: bool = False) -> Any | None:
    return tag_over_steps(run, PLASTICITY_LOSS, "plasticity loss", "Plasticity loss at the checkpoints", marker="o", each_seed=each_seed)


def probe_curves(run: Run, each_seed: bool = False) -> Any | None:
    """The plasticity probe's learning curve at every checkpoint, one panel per variant: the mean
    over seeds, with the spread across the probe's targets of every seed (lowest to highest
    target, where the run logged them): §3.3's later checkpoints fit slower and vary more."""
    by_variant = arrays_by_variant(run, "curve", PROBE_CURVE)
    if not by_variant:
        return None
    targets = arrays_by_variant(run, "matrix", TARGET_CURVES)
    fig, axes = new_figure(len(by_variant), width=page_width(len(by_variant)))
    mapper = step_colours(fig, axes, [step for steps in by_variant.values() for step in steps])
    for ax, (variant, steps) in zip(axes, by_variant.items()):
        for step, events in steps.items():
            colour = mapper.to_rgba(step)
            x = np.asarray(events[0].x, dtype=float)
            curves = np.stack([np.asarray(e.y, dtype=float) for e in events if len(e.y) == len(x)])
            rows = [np.asarray(e.values, dtype=float) for e in targets.get(variant, {}).get(step, [])]
            rows = [r for r in rows if r.ndim == 2 and r.shape[-1] == len(x)]
            if rows:
                pooled = np.concatenate(rows)
                ax.fill_between(x, pooled.min(axis=0), pooled.max(axis=0), color=colour, alpha=0.15, linewidth=0)
            if each_seed and len(curves) > 1:
                for curve in curves:
                    ax.plot(x, curve, color=colour, linewidth=0.4, alpha=0.5)
            ax.plot(x, curves.mean(axis=0), color=colour, linewidth=1.0)
        if all((np.asarray(e.y) > 0).all() for events in steps.values() for e in events):
            ax.set_yscale("log")  # raw regression losses span decades between checkpoints
        ax.set_title(variant)
        ax.set_xlabel("probe step")
    axes[0].set_ylabel("probe loss")
    n = seed_count(by_variant)
    spread = "band: lowest to highest probe target" + (" of any seed" if n > 1 else "")
    lines = f"mean of {counted(n, 'seed')}" if n > 1 else "1 seed"
    fig.suptitle(f"Plasticity probe: fitting fresh targets from each checkpoint\n{lines}; {spread}", fontsize=8)
    return fig


RUN_FIGURES = {
    "figure1_final_loss_by_task": final_loss_by_task,
    "learning_curves": learning_curves,
    "episode_returns": episode_returns,
    "plasticity_loss": plasticity_loss,
    "probe_curves": probe_curves,
    "hessian_density": hessian_density,
    "covariance": covariance_heatmaps,
    "variant_comparison": variant_comparison,
}
