"""The decimated histories: bounded memory, spikes and extremes kept, order kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plastilab.runtime.history import DecimatedHistory, fit_to_columns


def test_short_history_is_kept_exactly():
    h = DecimatedHistory(capacity=8)
    for i in range(5):
        h.append(i, i * i)
    x, y = h.points()
    assert x.tolist() == [0, 1, 2, 3, 4]
    assert y.tolist() == [0, 1, 4, 9, 16]
    assert h.stride == 1


def test_a_million_points_stay_bounded_and_keep_every_extreme():
    h = DecimatedHistory(capacity=1024)
    rng = np.random.default_rng(0)
    values = rng.normal(size=1_000_000)
    values[123_457] = 50.0  # one spike, as when Adam blows up for a step
    values[987_001] = -50.0
    for i, v in enumerate(values):
        h.append(float(i), float(v))
    x, y = h.points()
    assert len(x) <= 2 * 1024 + 2
    assert h.count == 1_000_000
    assert np.all(np.diff(x) > 0), "points come out in step order"
    assert y.max() == 50.0 and x[y.argmax()] == 123_457
    assert y.min() == -50.0 and x[y.argmin()] == 987_001
    assert h.last == (999_999.0, values[-1])
    # every bucket stands for a contiguous range: the curve's envelope is the data's envelope
    assert h.stride >= 1_000_000 // 1024


def test_memory_does_not_grow_with_length():
    h = DecimatedHistory(capacity=64)
    for i in range(10_000):
        h.append(i, math.sin(i))
    n_after_10k = len(h)
    for i in range(10_000, 200_000):
        h.append(i, math.sin(i))
    assert len(h) <= 2 * 64 + 2 and n_after_10k <= 2 * 64 + 2
    assert h._lo.shape == (64, 2)


def test_non_finite_values_are_counted_but_not_drawn():
    h = DecimatedHistory(capacity=8)
    h.append(0, 1.0)
    h.append(1, float("nan"))
    h.append(2, float("inf"))
    x, y = h.points()
    assert x.tolist() == [0.0]
    assert math.isinf(h.last[1]) and h.count == 3


def test_capacity_must_be_even():
    with pytest.raises(ValueError):
        DecimatedHistory(capacity=7)


def test_fit_to_columns_bounds_points_and_keeps_extremes():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 100)
    y[5000] = 9.0
    fx, fy = fit_to_columns(x, y, 80)
    assert len(fx) <= 160
    assert fy.max() == 9.0 and fy.min() == pytest.approx(y.min())
    assert np.all(np.diff(fx) >= 0)
    sx, sy = fit_to_columns(x[:50], y[:50], 80)
    assert len(sx) == 50  # short input comes back unchanged
