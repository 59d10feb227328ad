"""The study's mean ± t interval on numbers worked out by hand with the t table."""

import math

import pytest

from plastilab.studies.stats import mean_ci, t975


def test_the_t_quantiles_at_the_ends_of_the_table_and_beyond():
    assert t975(1) == 12.706
    assert t975(2) == 4.303
    assert t975(30) == 2.042
    assert t975(31) == 1.96
    assert t975(0) == 1.96


def test_two_values_use_one_degree_of_freedom():
    # mean 2, sample sd sqrt(2), half width 12.706 * sqrt(2) / sqrt(2) = 12.706
    n, mean, low, high = mean_ci([1.0, 3.0])
    assert (n, mean) == (2, 2.0)
    assert (low, high) == pytest.approx((2.0 - 12.706, 2.0 + 12.706))


def test_four_values():
    values = [0.5, 2.0, 3.0, 4.5]  # deviations -2, -0.5, 0.5, 2: squares sum 8.5, sd sqrt(8.5/3)
    half = 3.182 * math.sqrt(8.5 / 3) / 2
    n, mean, low, high = mean_ci(values)
    assert (n, mean) == (4, 2.5)
    assert (low, high) == pytest.approx((2.5 - half, 2.5 + half))


def test_none_and_non_finite_values_are_left_out():
    assert mean_ci([])[0] == 0 and all(math.isnan(v) for v in mean_ci([])[1:])
    n, mean, low, high = mean_ci([None, float("inf"), 7, float("nan")])
    assert (n, mean) == (1, 7.0) and math.isnan(low) and math.isnan(high)
    assert isinstance(mean, float)
