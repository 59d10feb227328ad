"""Bounded histories of array events: how a density or a probe curve changes over checkpoints.

``RunState.arrays`` keeps the latest array event of each (tag, series); the panes that show a
picture over checkpoints (the Hessian density by step, the probe's curves at successive
checkpoints) need the earlier ones too. ``ArrayHistory`` keeps, for the tags it is given, every
event of each series in step order, up to ``capacity``; when full it drops every other one (the
first and the latest always stay), so a long run costs the same memory and still spans its whole
length. Matrices other than the listed tags are never kept: a covariance matrix per checkpoint
would cost far more than any pane shows.
"""

from __future__ import annotations

import bisect

from plastilab.core.events import Curve, Histogram, Matrix

# The arrays drawn over checkpoints: the Hessian density, the probe's mean curve and its curve
# per target (a K x probe_steps matrix; the spread across targets is drawn from it).
KEPT_TAGS = frozenset({"hessian/density", "probe/curve", "probe/target_curves"})
CAPACITY = 64  # checkpoints kept per (tag, series); more than any pane has rows for


class ArrayHistory:
    def __init__(self, tags: frozenset[str] = KEPT_TAGS, capacity: int = CAPACITY) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.tags = tags
        self.capacity = capacity
        self._events: dict[str, dict[str, list[Histogram | Matrix | Curve]]] = {}  # tag -> series -> by step

    def add(self, event: Histogram | Matrix | Curve) -> None:
        if event.tag not in self.tags:
            return
        events = self._events.setdefault(event.tag, {}).setdefault(event.series, [])
        steps = [e.step for e in events]
        at = bisect.bisect_left(steps, event.step)
        if at < len(events) and events[at].step == event.step:
            events[at] = event  # the same checkpoint again (a replay): the later one stands
            return
        events.insert(at, event)
        if len(events) > self.capacity:
            # Keep the first, every other one after it, and always the latest.
            thinned = events[:-1:2]
            if thinned[-1] is not events[-1]:
                thinned.append(events[-1])
            events[:] = thinned

    def of(self, tag: str, series: str) -> list[Histogram | Matrix | Curve]:
        """The kept events of one (tag, series), in step order."""
        return list(self._events.get(tag, {}).get(series, ()))

    def series_of(self, tag: str) -> list[str]:
        return list(self._events.get(tag, {}))
