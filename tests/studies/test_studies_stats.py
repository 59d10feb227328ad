"""The studies' statistics against direct computations."""

from __future__ import annotations

import math

import numpy as np

from plastilab.core.statistics import average_ranks, correlations, mean_interval


def test_mean_interval_is_a_t_interval():
    n, mean, low, high = mean_interval([1.0, 2.0, 3.0, None, float("nan")])
    assert n == 3 and mean == 2.0
    assert math.isclose(high - mean, 4.302652729749464 * 1.0 / math.sqrt(3), rel_tol=1e-12)
    assert mean_interval([5.0])[0] == 1 and math.isnan(mean_interval([5.0])[2])


def test_average_ranks_share_ties():
    assert average_ranks(np.array([10.0, 20.0, 20.0, 5.0])).tolist() == [2.0, 3.5, 3.5, 1.0]


def test_correlations_match_direct_formulas_and_intervals_cover_them():
    rng = np.random.default_rng(1)
    y = rng.normal(size=400)
    strong = 2.0 * y + rng.normal(scale=0.5, size=400)
    monotone = np.exp(y)  # Spearman exactly 1, Pearson below 1
    noise = rng.normal(size=400)
    holes = strong.copy()
    holes[::4] = np.nan
    rows = {r["statistic"]: r for r in correlations(y, {"noise": noise, "strong": strong, "monotone": monotone, "holes": holes}, n_boot=400)}
    assert math.isclose(rows["strong"]["pearson"], np.corrcoef(y, strong)[0, 1], rel_tol=1e-9)
    assert math.isclose(rows["monotone"]["spearman"], 1.0, rel_tol=1e-12)
    assert rows["monotone"]["pearson"] < 0.95
    assert rows["holes"]["n"] == 300
    keep = np.isfinite(holes)
    assert math.isclose(rows["holes"]["pearson"], np.corrcoef(y[keep], holes[keep])[0, 1], rel_tol=1e-9)
    for row in rows.values():
        assert row["pearson_low"] <= row["pearson"] <= row["pearson_high"]
    # Pure noise: the interval holds zero; 400 points give a half-width near 1.96/sqrt(400) ≈ 0.1.
    assert rows["noise"]["pearson_low"] < 0 < rows["noise"]["pearson_high"]
    assert 0.05 < (rows["noise"]["pearson_high"] - rows["noise"]["pearson_low"]) / 2 < 0.15
    order = [r["statistic"] for r in correlations(y, {"noise": noise, "strong": strong}, n_boot=200)]
    assert order == ["strong", "noise"]  # sorted by |r|


def test_a_constant_statistic_has_no_r():
    rows = correlations(np.arange(10.0), {"flat": np.ones(10)}, n_boot=100)
    assert rows[0]["n"] == 10 and math.isnan(rows[0]["pearson"])
