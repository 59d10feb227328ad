"""Rank series by how well they keep fitting new tasks (the interventions grid, any run with tasks).

Per combination (a series name without its ``/s<seed>``): the final loss of each iteration,
averaged over the last ``window`` iterations for each seed, then the mean and the spread
(population standard deviation) of that over seeds, and the change from the first ``window``
iterations (positive: the loss grew, plasticity was lost). Lower final loss ranks first; a
combination whose loss went non-finite ranks last.

Pure python over plain data, so the headless report and the TUI can both show it from a run's
``summary.json`` (``ranking_from_summary``) or from live values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from plastilab.core.presentation import DEFAULT_WINDOW
from plastilab.core.series_names import split_seeded_name
from plastilab.core.statistics import population_sd

FINAL_LOSS = "task/final_loss"


@dataclass(frozen=True)
class RankedCombination:
    rank: int
    name: str  # e.g. "mlp+shrink_and_perturb"
    final_loss: float | None  # mean over seeds of the mean over the last iterations
    spread: float | None  # standard deviation of that over seeds
    change: float | None  # final_loss minus the same mean over the first iterations
    n_seeds: int
    n_iterations: int  # iterations every seed has finished


def combination_of(series: str) -> str:
    """``mlp+redo/s1`` -> ``mlp+redo``."""
    return split_seeded_name(series)[0]


def rank_combinations(final_losses: Mapping[str, Sequence[float | None]], window: int = DEFAULT_WINDOW) -> list[RankedCombination]:
    """``final_losses``: series name -> final loss of each iteration, in order (None: not finite)."""
    groups: dict[str, list[Sequence[float | None]]] = {}
    for series, losses in final_losses.items():
        groups.setdefault(combination_of(series), []).append(losses)
    rows = [_row(name, runs, window) for name, runs in groups.items()]
    rows.sort(key=lambda r: (r.final_loss is None, r.final_loss if r.final_loss is not None else 0.0, r.name))
    return [replace(r, rank=i + 1) for i, r in enumerate(rows)]


def ranking_from_summary(summary: Mapping, window: int = DEFAULT_WINDOW) -> list[RankedCombination]:
    """The ranking from a run's summary.json (its per-series ``per_task`` final losses)."""
    series = summary.get("series", {})
    losses = {name: data.get("per_task", {}).get(FINAL_LOSS, []) for name, data in series.items()}
    return rank_combinations({name: values for name, values in losses.items() if values}, window)


def as_records(ranking: Sequence[RankedCombination]) -> list[dict]:
    return [asdict(r) for r in ranking]


def format_ranking(ranking: Sequence[RankedCombination]) -> list[str]:
    """Plain text lines, a header and one per combination (for logs and plain terminals)."""
    width = max([len("combination"), *(len(r.name) for r in ranking)])
    lines = [f"{'rank':>4}  {'combination':<{width}}  {'final loss':>10} {'± seeds':>8} {'change':>8}"]
    for r in ranking:
        lines.append(f"{r.rank:>4}  {r.name:<{width}}  {_num(r.final_loss):>10} {_num(r.spread):>8} {_num(r.change, sign=True):>8}")
    return lines


def _row(name: str, runs: list[Sequence[float | None]], window: int) -> RankedCombination:
    n_iterations = min(len(run) for run in runs)
    runs = [list(run[:n_iterations]) for run in runs]  # compare seeds over the same iterations
    width = max(1, min(window, n_iterations))
    last = [_mean(run[-width:]) for run in runs]
    first = [_mean(run[:width]) for run in runs]
    final = _mean(last)
    start = _mean(first)
    spread = None if final is None else population_sd(last)
    change = None if final is None or start is None else final - start
    return RankedCombination(0, name, final, spread, change, len(runs), n_iterations)


def _mean(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    return sum(values) / len(values)


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "nan"
    return f"{value:+.3f}" if sign else f"{value:.3f}"
