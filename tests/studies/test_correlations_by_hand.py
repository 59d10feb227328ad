"""The studies' correlations against a dense reference and hand-worked cases.

The reference bootstrap takes the same resamples (numpy's generator seeded with ``seed``, B rows of
n indices drawn from 0..n-1, a missing point drawn counting for nothing) and computes each
resample's r the slow way, with ``np.corrcoef`` on the points drawn; Spearman's resamples the
ranks of the whole sample, ranks counted here by comparison (no sort). The product does it all in
one weighted matrix product, so the two share nothing but the draws."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from plastilab.core.statistics import correlations

KEYS = {"statistic", "n", "pearson", "spearman", "pearson_low", "pearson_high", "spearman_low", "spearman_high"}


def ranks_by_counting(v: np.ndarray) -> np.ndarray:
    less = (v[None, :] < v[:, None]).sum(axis=1)
    equal = (v[None, :] == v[:, None]).sum(axis=1)
    return less + (equal + 1) / 2


def dense_intervals(target, stat, n_boot, seed):
    target, stat = np.asarray(target, float), np.asarray(stat, float)
    n = len(target)
    valid = np.isfinite(target) & np.isfinite(stat)
    rank_x, rank_y = np.full(n, np.nan), np.full(n, np.nan)
    rank_x[valid], rank_y[valid] = ranks_by_counting(stat[valid]), ranks_by_counting(target[valid])
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    out = {}
    for kind, a, b in (("pearson", stat, target), ("spearman", rank_x, rank_y)):
        rs = []
        for idx in draws:
            idx = idx[valid[idx]]
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.corrcoef(a[idx], b[idx])[0, 1] if len(idx) > 1 else math.nan
            if math.isfinite(r):
                rs.append(r)
        out[f"{kind}_low"], out[f"{kind}_high"] = np.percentile(rs, [2.5, 97.5]) if rs else (math.nan, math.nan)
    return out


def one_row(target, stat, **kw) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # degenerate resamples are expected, and handled quietly
        (row,) = correlations(np.asarray(target, float), {"s": np.asarray(stat, float)}, **kw)
    return row


def assert_intervals_match(row, reference):
    for key, value in reference.items():
        assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def sample(n=25, seed=5):
    rng = np.random.default_rng(seed)
    target = rng.normal(size=n)
    return target, 0.7 * target + rng.normal(scale=0.8, size=n)


# --- the bootstrap against the dense reference ---------------------------------------------------


def test_default_bootstrap_is_1000_resamples_seeded_0():
    target, stat = sample()
    assert_intervals_match(one_row(target, stat), dense_intervals(target, stat, 1000, 0))


@pytest.mark.parametrize("seed", [1, 7])
def test_bootstrap_intervals_match_resampling_point_by_point(seed):
    target, stat = sample(n=30, seed=seed)
    stat = np.round(stat, 1)  # ties, for Spearman's average ranks
    row = one_row(target, stat, n_boot=300, seed=seed)
    assert_intervals_match(row, dense_intervals(target, stat, 300, seed))
    assert row["pearson_low"] < row["pearson"] < row["pearson_high"]
    assert row["spearman_low"] < row["spearman"] < row["spearman_high"]


def test_missing_points_weigh_nothing_in_a_resample():
    target, stat = sample(n=30, seed=2)
    stat[[0, 4, 9, 20]] = np.nan
    target[7] = np.inf
    row = one_row(target, stat, n_boot=200, seed=3)
    assert row["n"] == 25
    assert_intervals_match(row, dense_intervals(target, stat, 200, 3))


@pytest.mark.parametrize("moved_side", ["statistic", "target"])
@pytest.mark.parametrize(("scale", "offset"), [(1e100, 0.0), (1.0, 1e8)])
def test_intervals_hold_at_any_scale_and_offset(scale, offset, moved_side):
    # r does not depend on units: huge values, or a spread of about 1 around 10^8, give the same
    # intervals as the plain numbers (to the data's own last bits at 10^8).
    target, stat = sample(n=20, seed=4)
    plain = one_row(target, stat, n_boot=200, seed=0)
    if moved_side == "statistic":
        moved = one_row(target, offset + scale * stat, n_boot=200, seed=0)
    else:
        moved = one_row(offset + scale * target, stat, n_boot=200, seed=0)
    for key in ("pearson_low", "pearson_high", "spearman_low", "spearman_high"):
        assert moved[key] == pytest.approx(plain[key], abs=1e-6), key


def test_three_points_are_enough_and_degenerate_resamples_are_dropped_quietly():
    # 1, 2, 3 against 1, 3, 2: Pearson r = (−1·−1 + 0 + 1·0)/2 = 0.5; ranks the same, Spearman 0.5.
    target, stat = [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]
    row = one_row(target, stat, n_boot=200, seed=0)
    assert row["n"] == 3 and row["pearson"] == pytest.approx(0.5) and row["spearman"] == pytest.approx(0.5)
    assert_intervals_match(row, dense_intervals(target, stat, 200, 0))


def test_when_every_resample_is_degenerate_the_interval_is_nan():
    # A seed whose one resample draws the same point three times (found from the draws themselves).
    seed = next(s for s in range(1000) if len(set(np.random.default_rng(s).integers(0, 3, size=(1, 3))[0])) == 1)
    row = one_row([1.0, 3.0, 2.0], [1.0, 2.0, 3.0], n_boot=1, seed=seed)
    assert row["pearson"] == pytest.approx(0.5)
    assert all(math.isnan(row[k]) for k in ("pearson_low", "pearson_high", "spearman_low", "spearman_high"))


def test_a_narrow_range_still_has_an_r():
    # Ranges of 0.2 and 0.02. Centred: x −0.1, 0, 0.1 and y −0.01, 0.01, 0: Σxy = 0.001,
    # Σx² = 0.02, Σy² = 0.0002, so r = 0.001 / √(0.02 · 0.0002) = 0.001 / 0.002 = 0.5.
    row = one_row([0.01, 0.03, 0.02], [0.1, 0.2, 0.3], n_boot=50)
    assert row["pearson"] == pytest.approx(0.5, rel=1e-9)
    assert row["spearman"] == pytest.approx(0.5, rel=1e-9)
    assert_intervals_match(row, dense_intervals([0.01, 0.03, 0.02], [0.1, 0.2, 0.3], 50, 0))


# --- rows without an r -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "stat"),
    [
        ([1.0, 2.0], [2.0, 1.0]),  # two points
        ([1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]),  # a constant statistic
        ([7.0, 7.0, 7.0, 7.0], [1.0, 2.0, 3.0, 4.0]),  # a constant target
        ([1.0, 2.0, 3.0, np.nan], [1.0, np.nan, 3.0, 4.0]),  # two points left
    ],
)
def test_a_row_without_an_r_has_every_field_nan(target, stat):
    row = one_row(target, stat, n_boot=50)
    assert set(row) == KEYS
    assert all(math.isnan(row[k]) for k in KEYS - {"statistic", "n"})


def test_rows_with_and_without_an_r_together_sorted_by_strength_then_the_rest():
    target = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    stats = {
        "flat": np.full(5, 2.0),
        "weak": np.array([1.0, 3.0, 2.0, 5.0, 4.0]),  # r = 8 / √(10 · 10) = 0.8 (centred sums)
        "strong": np.array([5.0, 4.0, 3.0, 2.0, 0.0]),  # r = −12 / √(10 · 14.8) ≈ −0.986
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = correlations(target, stats, n_boot=100)
    assert [r["statistic"] for r in rows] == ["strong", "weak", "flat"]
    assert rows[0]["pearson"] == pytest.approx(-12 / math.sqrt(148), rel=1e-9)
    assert rows[1]["pearson"] == pytest.approx(0.8, rel=1e-9)
    assert all(set(r) == KEYS for r in rows)
    assert math.isnan(rows[2]["pearson_low"]) and math.isfinite(rows[0]["pearson_low"])
