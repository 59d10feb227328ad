"""The points of a falsification scatter: one statistic against the plasticity tag, grouped by an
axis for colour. The same rows the correlations are computed on (``aggregate.correlation_rows``:
checkpoints after step 0, both values finite), so the n in a scatter's title is the r's n.

Used by ``plastilab report`` (rows read back from table.csv, values as text) and by the lab's
study view (rows in memory).
"""

from __future__ import annotations

import math
from typing import Any

from plastilab.core.errors import ScenarioError

EXTRA_COLOUR_AXES = ("seed", "series")


def number(value: Any) -> float:
    """A table cell as a float (NaN when empty or not a number); table.csv gives text."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def scatter_groups(rows: list[dict[str, Any]], statistic: str, target: str, colour_by: str | None) -> dict[str, tuple[list[float], list[float]]]:
    """label -> (statistic values, plasticity values), labels in first-seen order."""
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for row in rows:
        if number(row.get("step", 0)) <= 0:
            continue  # step 0: the probe's own baseline, left out of r too
        x, y = number(row.get(statistic)), number(row.get(target))
        if math.isfinite(x) and math.isfinite(y):
            label = "" if colour_by is None else str(row.get(colour_by, "") or "")
            xs, ys = groups.setdefault(label, ([], []))
            xs.append(x)
            ys.append(y)
    return groups


def colour_axes(axis_columns: list[str]) -> list[str]:
    """What may colour a scatter: the study's axes, then seed and series."""
    return list(dict.fromkeys([*axis_columns, *EXTRA_COLOUR_AXES]))


def default_colour(color_by: str | None, axis_columns: list[str]) -> str:
    """The study's own ``color_by`` when it is one of its axes, else its first axis, else seed."""
    choices = colour_axes(axis_columns)
    return color_by if color_by in choices else choices[0]


def choose(name: str, valid: list[str], option: str, what: str) -> str:
    """``name`` if valid; otherwise a one-line error listing the valid ones."""
    if name in valid:
        return name
    raise ScenarioError(f"{option}: no {what} {name!r}; choose one of: {', '.join(valid) or '(none yet)'}")
