"""plastilab's statistics (``core/statistics.py``, numpy and math alone) against scipy's values:
the t quantile for every sample size, the mean's t interval, the correlations and their intervals,
the IQM, and the properties the seeded bootstraps promise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plastilab.core.statistics import (
    FISHER_Z975,
    average_ranks,
    column_intervals,
    correlations,
    iqm,
    mean_interval,
    pearson,
    pearson_fisher_interval,
    population_sd,
    spearman,
    stratified_bootstrap,
    stratified_interval,
    t_quantile,
    t_upper_tail,
)

scipy_stats = pytest.importorskip("scipy.stats")


# --- Student's t -------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995])
def test_t_quantiles_for_every_sample_size_from_2_to_200_match_scipy(p):
    for n in range(2, 201):
        assert t_quantile(p, n - 1) == pytest.approx(scipy_stats.t.ppf(p, n - 1), rel=1e-9), n


@pytest.mark.parametrize("df", [250, 500, 1000, 10_000, 100_000, 1_000_000, 2.5, 0.5])
def test_t_quantiles_for_large_and_fractional_degrees_of_freedom_match_scipy(df):
    for p in (0.9, 0.975, 0.995):
        assert t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-9)


def test_the_samples_of_32_64_and_128_no_longer_fall_back_to_the_normal():
    # The old study table gave 1.96 past 30 degrees of freedom: 3.9% narrow at n = 32.
    for n, exact in ((32, 2.0395134464), (64, 1.9983405425), (128, 1.9788195347)):
        assert t_quantile(0.975, n - 1) == pytest.approx(exact, rel=1e-9)
        assert t_quantile(0.975, n - 1) > 1.96


def test_t_quantiles_near_the_middle_and_below_it_against_closed_forms():
    # scipy's ppf loses digits for p near 0.5; t with 1 and 2 degrees of freedom have closed forms.
    for p in (0.5000001, 0.51, 0.6, 0.75, 0.76, 0.9):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
        assert t_quantile(1 - p, 7) == -t_quantile(p, 7)
    assert t_quantile(0.5, 3) == 0.0


def test_t_quantile_refuses_what_has_no_quantile():
    for p, df in ((0.0, 3), (1.0, 3), (0.975, 0), (0.975, -2), (float("nan"), 3), (0.975, float("inf")), (0.975, float("nan"))):
        with pytest.raises(ValueError):
            t_quantile(p, df)


def test_the_upper_tail_matches_scipy():
    for df in (1, 2, 5, 31, 200, 10_000):
        for t in (0.0, 0.01, 0.5, 1.96, 4.0, 30.0):
            assert t_upper_tail(t, df) == pytest.approx(scipy_stats.t.sf(t, df), rel=1e-12, abs=1e-300)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.sampled_from([0.9, 0.95, 0.975, 0.99]))
def test_t_quantiles_fall_with_the_degrees_of_freedom_towards_the_normal(df, p):
    assert t_quantile(p, df + 1) < t_quantile(p, df)
    assert t_quantile(p, df) > scipy_stats.norm.ppf(p)


# --- The mean over seeds -----------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 5, 10, 31, 32, 33, 64, 128, 500])
def test_the_mean_interval_is_scipys_t_interval(n):
    values = np.random.default_rng(n).normal(3.0, 2.0, size=n)
    interval = mean_interval(values)
    low, high = scipy_stats.t.interval(0.95, n - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert interval.n == n and interval.mean == pytest.approx(np.mean(values), rel=1e-14)
    assert (interval.low, interval.high) == pytest.approx((low, high), rel=1e-9)
    assert interval.half_width == pytest.approx((high - low) / 2, rel=1e-9)


def test_other_confidences_are_scipys_too():
    values = [0.3, 1.1, 0.7, 2.4, 1.9, 0.2]
    for confidence in (0.5, 0.9, 0.99):
        interval = mean_interval(values, confidence)
        expected = scipy_stats.t.interval(confidence, 5, loc=np.mean(values), scale=scipy_stats.sem(values))
        assert (interval.low, interval.high) == pytest.approx(expected, rel=1e-9)


def test_missing_values_are_left_out_and_too_few_have_no_interval():
    assert mean_interval([1.0, None, float("nan"), float("-inf"), 3.0]).n == 2
    assert math.isnan(mean_interval([4.0]).low) and mean_interval([4.0]).mean == 4.0
    empty = mean_interval([None, float("nan")])
    assert empty.n == 0 and all(math.isnan(v) for v in empty[1:])


def test_column_intervals_are_each_columns_mean_interval():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(40, 25))
    values[rng.random(values.shape) < 0.4] = np.nan
    values[:, 0] = np.nan  # a point no seed reached
    values[1:, 1] = np.nan  # a point one seed reached
    mean, low, high = column_intervals(values)
    for j in range(values.shape[1]):
        expected = mean_interval(values[:, j])
        # numpy's sums against math.fsum: equal to rounding; NaN where the interval is undefined.
        np.testing.assert_allclose([mean[j], low[j], high[j]], [expected.mean, expected.low, expected.high], rtol=1e-12, atol=1e-15)


def test_the_population_sd_divides_by_n():
    values = [0.1, 0.5, 0.45, 2.0, -1.0]
    assert population_sd(values) == pytest.approx(scipy_stats.tstd(values, ddof=0), rel=1e-12)
    assert population_sd([3.0]) == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=60), st.floats(min_value=-1e3, max_value=1e3))
def test_the_interval_holds_the_mean_and_moves_with_a_shift(values, shift):
    interval = mean_interval(values)
    assert interval.low <= interval.mean <= interval.high
    assert interval.mean - interval.low == pytest.approx(interval.high - interval.mean, rel=1e-9, abs=1e-6)
    moved = mean_interval([v + shift for v in values])
    assert moved.half_width == pytest.approx(interval.half_width, rel=1e-6, abs=1e-6)


# --- Correlations ------------------------------------------------------------------------------

def paired_sample(n: int, seed: int, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    x = 0.6 * y + rng.normal(scale=0.8, size=n)
    return (np.round(x), np.round(2 * y)) if ties else (x, y)


@pytest.mark.parametrize("n, ties", [(5, False), (40, False), (40, True), (300, True)])
def test_pearson_spearman_and_ranks_match_scipy(n, ties):
    x, y = paired_sample(n, n, ties)
    assert pearson(x, y) == pytest.approx(scipy_stats.pearsonr(x, y).statistic, rel=1e-12)
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic, rel=1e-12)
    np.testing.assert_array_equal(average_ranks(x), scipy_stats.rankdata(x, method="average"))
    assert math.isnan(pearson(x, np.ones(n)))


@pytest.mark.parametrize("n", [4, 10, 57])
def test_the_fisher_interval_is_scipys_with_the_rounded_normal_quantile(n):
    x, y = paired_sample(n, 7)
    r, low, high = pearson_fisher_interval(x, y)
    expected = scipy_stats.pearsonr(x, y)
    ci = expected.confidence_interval(0.95)
    assert r == pytest.approx(expected.statistic, rel=1e-12)
    # scipy takes the exact normal quantile, the figures 1.96: the ends differ by that in z alone.
    shift = (FISHER_Z975 - scipy_stats.norm.ppf(0.975)) / math.sqrt(n - 3)
    assert math.atanh(low) == pytest.approx(math.atanh(ci.low) - shift, rel=1e-12)
    assert math.atanh(high) == pytest.approx(math.atanh(ci.high) + shift, rel=1e-12)


def test_the_fisher_interval_needs_four_points_and_spread():
    assert all(math.isnan(v) for v in pearson_fisher_interval(np.arange(2.0), np.arange(2.0)))
    r, low, high = pearson_fisher_interval(np.arange(3.0), np.array([1.0, 0.0, 2.0]))
    assert r == pytest.approx(0.5) and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in pearson_fisher_interval(np.arange(5.0), np.ones(5)))


def test_correlation_rows_carry_scipys_r_and_a_bootstrap_interval_near_scipys():
    x, y = paired_sample(60, 11)
    (row,) = correlations(y, {"s": x}, n_boot=20_000, seed=4)
    assert row["n"] == 60
    assert row["pearson"] == pytest.approx(scipy_stats.pearsonr(x, y).statistic, rel=1e-12)
    assert row["spearman"] == pytest.approx(scipy_stats.spearmanr(x, y).statistic, rel=1e-12)
    for kind, a, b in (("pearson", x, y), ("spearman", average_ranks(x), average_ranks(y))):
        # Spearman's interval resamples the whole sample's ranks: the same statistic for scipy.
        ci = scipy_stats.bootstrap((a, b), lambda u, v, axis=-1: _vector_pearson(u, v, axis), paired=True, vectorized=True,
                                   n_resamples=20_000, method="percentile", random_state=np.random.default_rng(0)).confidence_interval
        assert row[f"{kind}_low"] == pytest.approx(ci.low, abs=0.02) and row[f"{kind}_high"] == pytest.approx(ci.high, abs=0.02)


def _vector_pearson(u: np.ndarray, v: np.ndarray, axis: int) -> np.ndarray:
    u = u - u.mean(axis=axis, keepdims=True)
    v = v - v.mean(axis=axis, keepdims=True)
    return (u * v).sum(axis=axis) / np.sqrt((u * u).sum(axis=axis) * (v * v).sum(axis=axis))


def test_the_correlation_bootstrap_is_seeded():
    x, y = paired_sample(30, 2)
    stats = {"a": x, "b": x ** 3, "c": np.where(np.arange(30) % 5 == 0, np.nan, y)}
    first, again = correlations(y, stats, n_boot=300, seed=9), correlations(y, stats, n_boot=300, seed=9)
    other = correlations(y, stats, n_boot=300, seed=10)
    assert first == again
    assert [r["pearson_low"] for r in first] != [r["pearson_low"] for r in other]
    assert [r["pearson"] for r in first] == [r["pearson"] for r in other]


# --- RL scores ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 5), (4, 4), (10, 13)])
def test_iqm_is_scipys_trimmed_mean(shape):
    scores = np.random.default_rng(sum(shape)).gamma(2.0, 1.0, size=shape)
    assert iqm(scores) == pytest.approx(scipy_stats.trim_mean(scores, 0.25, axis=None), rel=1e-12)


def test_the_stratified_bootstrap_is_seeded_and_draws_within_each_game():
    scores = np.arange(12.0).reshape(4, 3)  # each game (column) has its own values
    draws = stratified_bootstrap(scores, lambda s: s.ravel(), reps=50, seed=5)
    assert draws.shape == (50, 12)
    for game in range(3):
        assert np.isin(draws.reshape(50, 4, 3)[:, :, game], scores[:, game]).all()
    np.testing.assert_array_equal(draws, stratified_bootstrap(scores, lambda s: s.ravel(), reps=50, seed=5))
    assert not np.array_equal(draws, stratified_bootstrap(scores, lambda s: s.ravel(), reps=50, seed=6))


def test_one_game_is_the_ordinary_percentile_bootstrap_of_scipy():
    runs = np.random.default_rng(8).normal(1.0, 0.5, size=40)
    point, low, high = stratified_interval(runs[:, None], lambda s: float(s.mean()), reps=20_000, seed=2)
    ci = scipy_stats.bootstrap((runs,), np.mean, n_resamples=20_000, method="percentile", random_state=np.random.default_rng(1)).confidence_interval
    assert point == pytest.approx(runs.mean(), rel=1e-12)
    assert low == pytest.approx(ci.low, abs=0.01) and high == pytest.approx(ci.high, abs=0.01)


def test_a_vector_statistic_gets_an_interval_per_component():
    scores = np.random.default_rng(4).normal(size=(6, 5))
    point, low, high = stratified_interval(scores, lambda s: np.array([s.min(), s.mean(), s.max()]), reps=200, seed=0)
    assert point.shape == low.shape == high.shape == (3,)
    assert np.all(low <= high)
