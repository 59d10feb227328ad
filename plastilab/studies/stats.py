"""The few statistics studies need, in numpy alone: mean ± t interval, and Pearson and Spearman r
with bootstrap 95% intervals for many statistics at once.

The bootstrap draws B resamples of the points once and weighs every statistic by the same
multinomial counts, so all the correlations of a study cost one matrix product. Spearman's
interval resamples the ranks of the whole sample (ranks are not recomputed inside each resample),
the usual shortcut; its point estimate is exact (average ranks for ties).
"""

from __future__ import annotations

import math

import numpy as np

CI_METHOD = "t interval (95%)"
CORRELATION_CI_METHOD = "percentile bootstrap (95%)"

# Student t 0.975 quantiles for 1..30 degrees of freedom; the normal 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def mean_ci(values) -> tuple[int, float, float, float]:
    """(n, mean, low, high) of the finite values; the interval is NaN below two values."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return 1, mean, math.nan, math.nan
    half = t975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return n, mean, mean - half, mean + half


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties sharing their average rank (as Spearman's r needs)."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x), dtype=float)
    # Runs of equal values: each run's average position.
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    averages = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(averages, ends - starts)
    return ranks


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    denom = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float((x * y).sum() / denom) if denom > 0 else math.nan


def correlations(target: np.ndarray, stats: dict[str, np.ndarray], n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """For each statistic (NaN = missing): n, Pearson and Spearman r, each with a bootstrap 95% CI."""
    names = list(stats)
    n = len(target)
    columns, rows = [], []
    for name in names:
        x = np.asarray(stats[name], dtype=float)
        valid = np.isfinite(x) & np.isfinite(target)
        count = int(valid.sum())
        row = {"statistic": name, "n": count, "pearson": math.nan, "spearman": math.nan}
        if count >= 3 and np.ptp(x[valid]) > 0 and np.ptp(target[valid]) > 0:
            xs, ys = x[valid], target[valid]
            rx, ry = average_ranks(xs), average_ranks(ys)
            row["pearson"], row["spearman"] = _pearson(xs, ys), _pearson(rx, ry)
            for kind, a, b in (("pearson", xs, ys), ("spearman", rx, ry)):
                # Standardise first: the weighted sums below then stay well-conditioned in float64.
                a = (a - a.mean()) / a.std()
                b = (b - b.mean()) / b.std()
                full = [np.zeros(n) for _ in range(6)]
                for col, part in zip(full, (np.ones_like(a), a, b, a * a, b * b, a * b)):
                    col[valid] = part
                columns.extend(full)
                row.setdefault("_cols", []).append((kind, len(columns) - 6))
        rows.append(row)
    if columns:
        rng = np.random.default_rng(seed)
        counts = np.bincount((rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]).ravel(), minlength=n_boot * n)
        sums = counts.reshape(n_boot, n).astype(float) @ np.stack(columns, axis=1)  # (B, 6 per correlation)
        for row in rows:
            for kind, at in row.pop("_cols", []):
                w, sa, sb, saa, sbb, sab = (sums[:, at + i] for i in range(6))
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov = sab / w - (sa / w) * (sb / w)
                    r = cov / np.sqrt((saa / w - (sa / w) ** 2) * (sbb / w - (sb / w) ** 2))
                r = r[np.isfinite(r)]
                row[f"{kind}_low"], row[f"{kind}_high"] = (
                    (float(np.percentile(r, 2.5)), float(np.percentile(r, 97.5))) if len(r) else (math.nan, math.nan)
                )
    for row in rows:
        row.pop("_cols", None)
        for kind in ("pearson", "spearman"):
            row.setdefault(f"{kind}_low", math.nan)
            row.setdefault(f"{kind}_high", math.nan)
    rows.sort(key=lambda r: -abs(r["pearson"]) if math.isfinite(r["pearson"]) else 1.0)
    return rows
