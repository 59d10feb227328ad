"""Three of plotext's inner loops, redone with numpy: same cells, a fraction of the time.

Building a line chart, plotext (pinned at 5.3.2) spends most of its time in three pure helpers
of ``plotext._utility``: ``get_lines`` (the points of every segment between data points, one
Python list per segment), ``hd_group`` (gathering points into braille cells, a dict of nested
lists per cell) and ``remove_outsiders`` (a list per point). ``faster_plotext()`` swaps
in vectorised versions for the duration of a build; they return the same points and cells (in another order, which plotext does not depend
on), and hand any input they were not written for (missing values, mixed markers) back to the
originals. ``tests/tui/test_plotext_speedups.py`` checks that whole figures come out identical.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import plotext._utility as ut

_original_get_lines = ut.get_lines
_original_hd_group = ut.hd_group
_original_remove_outsiders = ut.remove_outsiders
_lock = threading.Lock()
_mask_tuples: dict[tuple[int, int], list[tuple[int, ...]]] = {}


def _numeric(values) -> np.ndarray | None:
    """``values`` as a float array, or None if any is missing / not a number (plotext allows those)."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        return None
    if array.ndim != 1 or array.dtype.kind not in "iuf":  # text, None, objects: not for us
        return None
    array = array.astype(float, copy=False)
    return array if np.isfinite(array).all() else None


def get_lines(x, y, *other):
    """Like ``plotext._utility.get_lines``: the points joining consecutive data points."""
    n = len(x)
    xs, ys = _numeric(x), _numeric(y)
    if n < 2 or xs is None or ys is None or len(ys) != n:
        return _original_get_lines(x, y, *other)
    x0, x1 = xs[:-1], xs[1:]
    y0, y1 = ys[:-1], ys[1:]
    # plotext: a = max(|int(x1) - int(x0)|, |int(y1) - int(y0)|) + 1 points, the last one dropped
    a = np.maximum(np.abs(np.trunc(x1) - np.trunc(x0)), np.abs(np.trunc(y1) - np.trunc(y0))).astype(np.int64) + 1
    counts = a - 1
    segment = np.repeat(np.arange(n - 1), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    denominator = np.maximum(a - 1, 1)[segment]
    # the same float operations as plotext's linspace: lower + k * ((upper - lower) / (length - 1))
    px = np.trunc(x0[segment] + k * ((x1 - x0)[segment] / denominator)).astype(np.int64)
    py = np.trunc(y0[segment] + k * ((y1 - y0)[segment] / denominator)).astype(np.int64)
    xl = px.tolist() + [x[-1]]
    yl = py.tolist() + [y[-1]]
    index = segment.tolist() + [n - 1]
    return [xl, yl] + [[values[i] for i in index] for values in other]


def hd_group(x, y, xf, yf):
    """Like ``plotext._utility.hd_group``: points gathered into high-definition (braille) cells."""
    if not x or len(set(xf)) != 1 or len(set(yf)) != 1:
        return _original_hd_group(x, y, xf, yf)
    xs, ys = _numeric(x), _numeric(y)
    if xs is None or ys is None:
        return _original_hd_group(x, y, xf, yf)
    fx, fy = xf[0], yf[0]
    xs, ys = xs.astype(np.int64), ys.astype(np.int64)
    cx, cy = xs // fx, ys // fy
    x0, y0 = cx.min(), cy.min()
    rows = int(cy.max() - y0) + 1
    keys, inverse = np.unique((cx - x0) * rows + (cy - y0), return_inverse=True)  # one sort of ints
    unique = np.stack([keys // rows + x0, keys % rows + y0], axis=1)
    # plotext's cell matrix has fy rows of fx dots, read top row first: dot (col, row) -> bit
    bits = (fy - 1 - ys % fy) * fx + xs % fx
    masks = np.zeros(len(unique), dtype=np.int64)
    np.bitwise_or.at(masks, inverse.reshape(-1), np.left_shift(1, bits))
    table = _tuples(fx, fy)
    return unique[:, 0].tolist(), unique[:, 1].tolist(), [table[m] for m in masks.tolist()]


def remove_outsiders(x, y, width, height, *other):
    """Like ``plotext._utility.remove_outsiders``: keep the cells inside the canvas."""
    xs, ys = _numeric(x), _numeric(y)
    if xs is None or ys is None or len(xs) != len(ys) or any(len(o) < len(xs) for o in other):
        return _original_remove_outsiders(x, y, width, height, *other)
    # plotext: x[i] in range(width), i.e. a whole number from 0 to width - 1
    keep = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height) & (xs == np.floor(xs)) & (ys == np.floor(ys))
    index = np.flatnonzero(keep).tolist()
    if not index:
        return [[]] * (2 + len(other))
    return [[values[i] for i in index] for values in (x, y, *other)]


def _tuples(fx: int, fy: int) -> list[tuple[int, ...]]:
    """mask -> the tuple of 0/1 dots plotext uses as the key of its marker tables."""
    table = _mask_tuples.get((fx, fy))
    if table is None:
        size = fx * fy
        table = [tuple((mask >> i) & 1 for i in range(size)) for mask in range(1 << size)]
        _mask_tuples[(fx, fy)] = table
    return table


@contextlib.contextmanager
def faster_plotext():
    """Use the vectorised helpers while building a figure (one build at a time)."""
    with _lock:
        swapped = {"get_lines": get_lines, "hd_group": hd_group, "remove_outsiders": remove_outsiders}
        originals = {name: getattr(ut, name) for name in swapped}
        for name, function in swapped.items():
            setattr(ut, name, function)
        try:
            yield
        finally:
            for name, function in originals.items():
                setattr(ut, name, function)
