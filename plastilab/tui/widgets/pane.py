"""The one interface of the dashboard's panes: ``draw(state, view) -> caption``.

Every pane draws itself from the run's ``RunState`` and the dashboard's view settings, and
returns a caption: a short description of what it shows, or "" when it has nothing to show (its
tab then carries no dot). A new pane is one widget file with that method and one line in the
dashboard's ``PANES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from plastilab.runtime.run_state import RunState


@dataclass(frozen=True)
class PaneView:
    """What the person chose: the scalar tag of the curves, log scale, hidden series, which matrix."""

    tag: str | None = None
    log_y: bool = False
    hidden: frozenset[str] = field(default_factory=frozenset)
    matrix_index: int = 0
    over_seeds: bool = False  # curves: each variant's mean and min-max over its seeds
    now: float | None = None  # the clock of a live run's elapsed time (None: time.time())


class Pane(Protocol):
    def draw(self, state: RunState, view: PaneView) -> str: ...
