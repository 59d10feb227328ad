"""The study's mean ± t interval on numbers worked out by hand with the t table's quantiles (to the
table's five digits: the interval's own quantile is exact)."""

import math

import pytest

from plastilab.core.statistics import mean_interval, t_quantile


def test_the_t_quantiles_at_the_ends_of_the_table_and_beyond():
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 2) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(0.975, 30) == pytest.approx(2.0423, abs=1e-4)
    # Beyond a printed table's last row the quantile keeps falling towards the normal 1.96.
    assert t_quantile(0.975, 31) == pytest.approx(2.0395, abs=1e-4)
    assert t_quantile(0.975, 120) == pytest.approx(1.9799, abs=1e-4)
    with pytest.raises(ValueError):
        t_quantile(0.975, 0)


def test_two_values_use_one_degree_of_freedom():
    # mean 2, sample sd sqrt(2), half width 12.7062 * sqrt(2) / sqrt(2) = 12.7062
    n, mean, low, high = mean_interval([1.0, 3.0])
    assert (n, mean) == (2, 2.0)
    assert (low, high) == pytest.approx((2.0 - 12.7062, 2.0 + 12.7062), abs=1e-4)


def test_four_values():
    values = [0.5, 2.0, 3.0, 4.5]  # deviations -2, -0.5, 0.5, 2: squares sum 8.5, sd sqrt(8.5/3)
    half = 3.1824 * math.sqrt(8.5 / 3) / 2
    n, mean, low, high = mean_interval(values)
    assert (n, mean) == (4, 2.5)
    assert (low, high) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-4)


def test_thirty_two_values_use_31_degrees_of_freedom_not_the_normal():
    values = [float(v) for v in range(32)]  # mean 15.5, sample variance 32 * 33 / 12 = 88
    half = 2.0395 * math.sqrt(88) / math.sqrt(32)
    n, mean, low, high = mean_interval(values)
    assert (n, mean) == (32, 15.5)
    assert high - mean == pytest.approx(half, abs=1e-3)


def test_none_and_non_finite_values_are_left_out():
    assert mean_interval([])[0] == 0 and all(math.isnan(v) for v in mean_interval([])[1:])
    n, mean, low, high = mean_interval([None, float("inf"), 7, float("nan")])
    assert (n, mean) == (1, 7.0) and math.isnan(low) and math.isnan(high)
    assert isinstance(mean, float)
