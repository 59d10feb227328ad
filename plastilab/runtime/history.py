"""Bounded histories for live curves: memory stays flat on a million-step run, spikes survive.

``DecimatedHistory`` keeps at most ``capacity`` buckets. A bucket stands for ``stride`` raw
points and remembers the lowest and the highest of them (with their x). When the buckets are
full, neighbours are merged pairwise and the stride doubles, so a run of any length costs the
same memory and a single loss spike is never averaged away. ``fit_to_columns`` does the same
min/max reduction once more for the width of a chart, so drawing costs the same at any length.
"""

from __future__ import annotations

import math

import numpy as np


class DecimatedHistory:
    def __init__(self, capacity: int = 2048) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.stride = 1  # raw points a completed bucket stands for
        self.count = 0  # raw points appended, finite or not
        self.last: tuple[float, float] | None = None  # the latest raw point, NaN kept
        self._n = 0  # completed buckets
        self._lo = np.empty((capacity, 2))  # (x, y) of each bucket's lowest point
        self._hi = np.empty((capacity, 2))  # (x, y) of each bucket's highest point
        self._pending = 0
        self._plo = (0.0, 0.0)
        self._phi = (0.0, 0.0)
        # points() as last computed and the count it was computed at: a dashboard redraws every
        # series each time any one moves (a population's 128), most of them unchanged since.
        self._points: tuple[np.ndarray, np.ndarray] | None = None
        self._points_count = -1

    def __len__(self) -> int:
        """Points ``points()`` returns at most (two per bucket)."""
        return 2 * (self._n + (1 if self._pending else 0))

    def append(self, x: float, y: float) -> None:
        self.count += 1
        self.last = (x, y)
        if not math.isfinite(y):
            return  # kept as ``last`` for the table; a chart cannot draw it
        if self._pending == 0:
            self._plo = self._phi = (x, y)
        else:
            if y < self._plo[1]:
                self._plo = (x, y)
            if y > self._phi[1]:
                self._phi = (x, y)
        self._pending += 1
        if self._pending >= self.stride:
            self._close_bucket()

    def _close_bucket(self) -> None:
        if self._n == self.capacity:
            self._compact()
        self._lo[self._n] = self._plo
        self._hi[self._n] = self._phi
        self._n += 1
        self._pending = 0

    def _compact(self) -> None:
        """Merge buckets pairwise: each pair keeps its lower low and its higher high."""
        n = self._n
        lo_a, lo_b = self._lo[0:n:2], self._lo[1:n:2]
        hi_a, hi_b = self._hi[0:n:2], self._hi[1:n:2]
        lo = np.where((lo_b[:, 1] < lo_a[:, 1])[:, None], lo_b, lo_a)
        hi = np.where((hi_b[:, 1] > hi_a[:, 1])[:, None], hi_b, hi_a)
        half = n // 2
        self._lo[:half] = lo
        self._hi[:half] = hi
        self._n = half
        self.stride *= 2

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Every kept point, in x order (a bucket's low and high in the order they came); read-only
        arrays, shared until the next append."""
        if self._points is None or self._points_count != self.count:
            x, y = self._compute_points()
            x.flags.writeable = y.flags.writeable = False
            self._points, self._points_count = (x, y), self.count
        return self._points

    def _compute_points(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._lo[: self._n], self._hi[: self._n]
        if self._pending:
            lo = np.vstack([lo, [self._plo]])
            hi = np.vstack([hi, [self._phi]])
        if len(lo) == 0:
            return np.empty(0), np.empty(0)
        first = np.where((lo[:, 0] <= hi[:, 0])[:, None], lo, hi)
        second = np.where((lo[:, 0] <= hi[:, 0])[:, None], hi, lo)
        pairs = np.stack([first, second], axis=1).reshape(-1, 2)
        keep = np.ones(len(pairs), dtype=bool)
        keep[1::2] = first[:, 0] != second[:, 0]  # a one-point bucket: draw it once
        pairs = pairs[keep]
        return pairs[:, 0], pairs[:, 1]


def fit_to_columns(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * columns`` points: each column's lowest and highest y, at its centre.

    ``x`` must be sorted. Short inputs come back unchanged.
    """
    columns = max(1, int(columns))
    if len(x) <= 2 * columns:
        return x, y
    x0, x1 = float(x[0]), float(x[-1])
    if x1 <= x0:
        return x[-1:], y[-1:]
    edges = np.linspace(x0, x1, columns + 1)
    starts = np.searchsorted(x, edges[:-1], side="left")
    starts[0] = 0
    nonempty = np.unique(starts[starts < len(x)])
    lows = np.minimum.reduceat(y, nonempty)
    highs = np.maximum.reduceat(y, nonempty)
    bins = np.searchsorted(edges, x[nonempty], side="right") - 1
    bins = np.clip(bins, 0, columns - 1)
    centres = (edges[bins] + edges[bins + 1]) / 2
    out_x = np.repeat(centres, 2)
    out_y = np.empty(2 * len(nonempty))
    out_y[0::2] = lows
    out_y[1::2] = highs
    return out_x, out_y
