"""The final loss of every iteration, per series and per combination, from a session's state.

What the comparison view charts and ranks. No Textual in here. Every task-based scenario logs
``task/final_loss`` once per series at the last step of each task, so a series' history of that
tag holds one point per iteration, in order (the histories keep every point until a run has
more iterations than their capacity, 2,048 by default). A value that was not finite is not kept
in a history, only counted: it comes back as ``None``, which ranks its combination last.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from plastilab.rundir import layout, safe_files
from plastilab.analysis.ranking import DEFAULT_WINDOW, FINAL_LOSS, combination_of
from plastilab.core.presentation import presentation_for
from plastilab.runtime.run_state import RunState

FinalLosses = dict[str, list[float | None]]  # series (or combination) -> final loss of each iteration


def has_final_losses(state: RunState) -> bool:
    return any(FINAL_LOSS in histories for histories in state.scalars.values())


def final_loss_counts(state: RunState) -> tuple[int, ...]:
    """Changes exactly when a final loss arrives: cheap enough to check at every redraw tick."""
    return tuple(h[FINAL_LOSS].count for h in state.scalars.values() if FINAL_LOSS in h)


def final_losses(state: RunState) -> FinalLosses:
    """Series -> its final loss of each iteration so far, in the state's series order."""
    found: FinalLosses = {}
    for name in state.series:
        history = state.scalars.get(name, {}).get(FINAL_LOSS)
        if history is None:
            continue
        _, y = history.points()
        values: list[float | None] = [float(v) for v in y]
        values.extend([None] * max(0, history.count - len(values)))  # the non-finite ones
        found[name] = values
    return found


def combinations(series: list[str]) -> list[str]:
    """Each combination once, in the order its first series appears (their colours follow it)."""
    return list(dict.fromkeys(combination_of(name) for name in series))


def mean_over_seeds(losses: FinalLosses) -> FinalLosses:
    """Combination -> per iteration, the mean over the seeds that have finished it.

    While a grid runs its seeds one after another, a later seed's first iterations join the mean
    as they arrive, so a combination's curve never shrinks. A non-finite seed makes it ``None``.
    """
    groups: dict[str, list[list[float | None]]] = {}
    for name, values in losses.items():
        groups.setdefault(combination_of(name), []).append(values)
    means: FinalLosses = {}
    for name, runs in groups.items():
        length = max(len(run) for run in runs)
        column: list[float | None] = []
        for i in range(length):
            values = [run[i] for run in runs if i < len(run)]
            if any(v is None or not math.isfinite(v) for v in values):
                column.append(None)
            else:
                column.append(sum(values) / len(values))  # type: ignore[arg-type]
        means[name] = column
    return means


def seeds_per_combination(series: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in series:
        key = combination_of(name)
        counts[key] = counts.get(key, 0) + 1
    return counts


def ranking_window(run_dir: str | Path | None) -> int:
    """The iterations a ranking averages over for the run in ``run_dir``, as its scenario kind
    reads them from the resolved scenario.toml; the default without one."""
    if run_dir is None:
        return DEFAULT_WINDOW
    try:
        scenario = tomllib.loads(safe_files.read_text(Path(run_dir) / layout.SCENARIO, 1 << 20) or "")
    except tomllib.TOMLDecodeError:
        return DEFAULT_WINDOW
    kind = scenario.get("kind")
    return presentation_for(kind if isinstance(kind, str) else None).ranking_window(scenario)
