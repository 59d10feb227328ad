"""What the probe and Hessian panes draw over seeds: each variant once, not each of its seeds.

With the seeds key (``view.over_seeds``) the learning curves show each variant's mean between
the min and max of its seeds; the latest-picture panes follow the same rule, so a population of
128 series draws a handful of lines in every pane (a plotext figure costs per line and point:
128 probe curves and 128 densities were most of a redraw's time, bench/bench_tui_redraw.py).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from plastilab.core.series_names import split_seeded_name


def seed_groups(series: list[str]) -> dict[str, list[str]]:
    """Variants run over two or more seeds: variant -> its series ``<variant>/s<seed>``."""
    groups: dict[str, list[str]] = {}
    for name in series:
        variant, seed = split_seeded_name(name)
        if seed is not None:
            groups.setdefault(variant, []).append(name)
    return {variant: names for variant, names in groups.items() if len(names) > 1}


def drawn_units(series: list[str], present: Collection[str], hidden: Collection[str], over_seeds: bool) -> list[list[str]]:
    """The series a pane draws, in the run's order: one list per line (or band) drawn, a variant's
    shown seeds together when ``over_seeds``, every other series alone. Series with data that the
    run did not announce come last, alone."""
    member_of = {n: v for v, names in seed_groups(series).items() for n in names} if over_seeds else {}
    units: list[list[str]] = []
    unit_of: dict[str, int] = {}
    for name in [*series, *(n for n in present if n not in series)]:
        if name not in present or name in hidden:
            continue
        variant = member_of.get(name)
        if variant is None:
            units.append([name])
        else:
            if variant not in unit_of:
                unit_of[variant] = len(units)
                units.append([])
            units[unit_of[variant]].append(name)
    return units


def band(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, min, max, mean) over curves: on their shared x when they share one (a population's
    probe curves do), else on the first curve's x within the range every curve covers."""
    x0 = curves[0][0]
    if all(len(x) == len(x0) and np.array_equal(x, x0) for x, _ in curves[1:]):
        values = np.stack([y for _, y in curves])
        x = x0
    else:
        low, high = max(float(x[0]) for x, _ in curves), min(float(x[-1]) for x, _ in curves)
        x = x0[(x0 >= low) & (x0 <= high)]
        values = np.stack([np.interp(x, cx, cy) for cx, cy in curves]) if len(x) else np.empty((len(curves), 0))
    return x, values.min(axis=0), values.max(axis=0), values.mean(axis=0)


class EventMemo:
    """Results computed from events, kept while the same events are the latest: a redraw follows
    every batch of a run, while a series' probe curve or density changes once a checkpoint."""

    def __init__(self) -> None:
        self._kept: dict[object, tuple[tuple, object]] = {}

    def get(self, key: object, events: tuple, compute):
        kept = self._kept.get(key)
        if kept is not None and len(kept[0]) == len(events) and all(a is b for a, b in zip(kept[0], events)):
            return kept[1]
        result = compute()
        self._kept[key] = (events, result)
        return result
