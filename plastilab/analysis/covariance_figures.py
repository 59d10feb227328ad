"""Gradient covariance (the paper's Fig. 5): the cosine between per-example gradients, rows and
columns ordered by the examples' labels (class, or latent state), so interference shows as blocks.

One row of panels per variant, one column per checkpoint (the first, a middle and the last). A
per-example matrix does not average over seeds (each seed draws its own examples), so one seed's
is drawn, the same seed for every panel; the block means printed over each panel (within a label,
across labels) are the mean ± 95% t interval over every seed. Variants whose matrices differ in
size or in their examples' labels get a note on the figure saying so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plastilab.analysis.figure_arrays import arrays_by_variant, seed_count
from plastilab.analysis.figure_style import DIVERGING, NEUTRAL, PAGE_WIDTH_IN, counted, new_figure
from plastilab.analysis.runs import Run
from plastilab.core.statistics import mean_interval

COVARIANCE = "gradients/covariance"
MAX_CHECKPOINTS = 3


def block_edges(labels: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(label, first row, one past the last row) of each run of equal labels, in order."""
    blocks: list[tuple[str, int, int]] = []
    for i, label in enumerate(labels):
        if blocks and blocks[-1][0] == label:
            blocks[-1] = (label, blocks[-1][1], i + 1)
        else:
            blocks.append((label, i, i + 1))
    return blocks


def block_means(matrix: np.ndarray, labels: tuple[str, ...] | None) -> tuple[float, float]:
    """Mean cosine between different examples with the same label, and with different labels."""
    if labels is None or len(labels) != len(matrix):
        return float("nan"), float("nan")
    tags = np.asarray(labels)
    same = tags[:, None] == tags[None, :]
    off = ~np.eye(len(tags), dtype=bool)
    within, across = matrix[same & off], matrix[~same]
    return (float(within.mean()) if within.size else float("nan")), (float(across.mean()) if across.size else float("nan"))


def _shown_checkpoints(steps: list[int]) -> list[int]:
    if len(steps) <= MAX_CHECKPOINTS:
        return steps
    return [steps[0], steps[len(steps) // 2], steps[-1]]


def _interval_text(values: list[float]) -> str:
    _, mean, low, high = mean_interval(values)
    return f"{mean:+.2f}" if not np.isfinite(low) else f"{mean:+.2f} ± {(high - low) / 2:.2f}"


def _notes(shown: dict[str, Any]) -> list[str]:
    """What a reader must be told when the variants' panels do not show like with like."""
    sizes = {variant: len(event.values) for variant, event in shown.items()}
    notes = []
    if len(set(sizes.values())) > 1:
        notes.append("sizes differ, each variant's batch held fewer examples: " + ", ".join(f"{v} {n}" for v, n in sizes.items()))
    labelled = {variant: tuple(event.labels or ()) for variant, event in shown.items()}
    if len(set(sizes.values())) == 1 and len(set(labelled.values())) > 1:
        notes.append("the variants' examples differ (their labels do)")
    if not any(labelled.values()):
        notes.append("no labels recorded: examples in batch order")
    return notes


def covariance_heatmaps(run: Run, each_seed: bool = False) -> Any | None:
    by_variant = arrays_by_variant(run, "matrix", COVARIANCE)
    if not by_variant:
        return None
    steps = _shown_checkpoints(sorted({s for per_step in by_variant.values() for s in per_step}))
    n_seeds = seed_count(by_variant)
    shown_series = min(e.series for per_step in by_variant.values() for events in per_step.values() for e in events)
    shown_seed = shown_series.rsplit("/", 1)[-1] if "/" in shown_series else None
    panels = [(variant, step) for variant in by_variant for step in steps]
    fig, axes = new_figure(len(panels), ncols=len(steps), width=PAGE_WIDTH_IN if len(steps) > 1 else PAGE_WIDTH_IN / 2, panel_height=2.3)
    image = None
    last_shown: dict[str, Any] = {}
    for ax, (variant, step) in zip(axes, panels):
        ax.grid(False)
        events = by_variant[variant].get(step, [])
        if not events:
            ax.set_axis_off()
            continue
        event = next((e for e in events if shown_seed is None or e.series.endswith("/" + shown_seed)), events[0])
        last_shown[variant] = event
        matrix = np.asarray(event.values, dtype=float)
        image = ax.imshow(matrix, cmap=DIVERGING, vmin=-1.0, vmax=1.0, interpolation="nearest")
        _label_blocks(ax, tuple(event.labels) if event.labels and len(event.labels) == len(matrix) else None, len(matrix))
        means = [block_means(np.asarray(e.values, dtype=float), tuple(e.labels) if e.labels else None) for e in events]
        summary = ""
        if np.isfinite([m[0] for m in means]).any():
            summary = f"\nwithin {_interval_text([m[0] for m in means])}, across {_interval_text([m[1] for m in means])}"
        ax.set_title(f"{variant}, step {step}{summary}", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes, label="gradient cosine", shrink=0.8)
    seed_text = f"seed {shown_seed[1:]} of {counted(n_seeds, 'seed')} shown" if n_seeds > 1 and shown_seed else "1 seed"
    mean_text = f"within/across a label: mean cosine ± 95% t over {counted(n_seeds, 'seed')}" if n_seeds > 1 else "within/across a label: mean cosine"
    size = len(next(iter(last_shown.values())).values) if last_shown else 0
    lines = [f"Gradient covariance: cosine between the per-example gradients of {size} examples, ordered by label", f"{seed_text}; {mean_text}"]
    lines += _notes(last_shown)
    fig.suptitle("\n".join(lines), fontsize=8)
    return fig


def _label_blocks(ax: Any, labels: tuple[str, ...] | None, n: int) -> None:
    """Thin lines between label blocks, each block's label at its middle; ticks off otherwise."""
    if labels is None:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("example (batch order)", fontsize=6)
        return
    blocks = block_edges(labels)
    for _, start, _ in blocks[1:]:
        ax.axhline(start - 0.5, color=NEUTRAL, linewidth=0.4)
        ax.axvline(start - 0.5, color=NEUTRAL, linewidth=0.4)
    centres = [(start + end - 1) / 2 for _, start, end in blocks]
    names = [label for label, _, _ in blocks]
    ax.set_xticks(centres, names, fontsize=5)
    ax.set_yticks(centres, names, fontsize=5)
    ax.tick_params(length=0, pad=1)
    ax.set_xlabel("examples by label", fontsize=6)
