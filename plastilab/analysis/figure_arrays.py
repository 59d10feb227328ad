"""A run's array events (densities, matrices, curves) grouped for figures, and the colour scale of
checkpoint steps that the figures drawing one curve per checkpoint share."""

from __future__ import annotations

from typing import Any

from plastilab.analysis.figure_style import SEQUENTIAL
from plastilab.analysis.runs import Run, parse_series


def arrays_by_variant(run: Run, kind: str, tag: str) -> dict[str, dict[int, list[Any]]]:
    """Array events by variant and step, one event a seed (every seed, in file order)."""
    by_variant: dict[str, dict[int, list[Any]]] = {}
    for event in run.arrays(kind=kind, tag=tag):
        by_variant.setdefault(parse_series(event.series)[0], {}).setdefault(event.step, []).append(event)
    return by_variant


def step_colours(fig: Any, axes: list[Any], steps: list[int]) -> Any:
    """A colour per checkpoint step, early dark to late yellow, with one colour bar for all panels."""
    from matplotlib import cm, colors  # deferred: pulls in matplotlib

    norm = colors.Normalize(vmin=min(steps), vmax=max(steps) if max(steps) > min(steps) else min(steps) + 1)
    mapper = cm.ScalarMappable(norm=norm, cmap=SEQUENTIAL)
    fig.colorbar(mapper, ax=axes, label="checkpoint step", shrink=0.9)
    return mapper


def seed_count(by_variant: dict[str, dict[int, list[Any]]]) -> int:
    return max(len({e.series for e in events}) for steps in by_variant.values() for events in steps.values())
