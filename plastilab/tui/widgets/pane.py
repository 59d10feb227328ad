"""The one interface of the dashboard's panes: ``draw(state, view) -> caption``.

Every pane draws itself from the run's ``RunState`` and the dashboard's view settings, and
returns a caption: a short description of what it shows, or "" when it has nothing to show (its
tab then carries no dot). A new pane is one widget file with that method and one line in the
``PANES`` (tui/panes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from plastilab.runtime.run_state import RunState


@dataclass(frozen=True)
class PaneView:
    """What the person chose: the scalar tag of the curves, log scale, hidden series, which matrix,
    latest picture or over checkpoints, and which series the over-time views show."""

    tag: str | None = None
    log_y: bool = False
    hidden: frozenset[str] = field(default_factory=frozenset)
    matrix_index: int = 0
    over_seeds: bool = False  # curves: each variant's mean and min-max over its seeds
    now: float | None = None  # the clock of a live run's elapsed time (None: time.time())
    names: Mapping[str, str] = field(default_factory=dict)  # series -> the name shown (tui/series_names.py)
    over_time: bool = False  # probe and Hessian panes: how the picture changed over checkpoints
    focus: int = 0  # over time: which of the series (one at a time; counted over those with data)

    def name(self, series: str) -> str:
        return self.names.get(series, series)

    def focused(self, candidates: list[str]) -> str | None:
        """The series an over-time view shows: the ``focus``-th of the shown ``candidates``."""
        shown = [s for s in candidates if s not in self.hidden]
        return shown[self.focus % len(shown)] if shown else None


class Pane(Protocol):
    def draw(self, state: RunState, view: PaneView) -> str: ...
