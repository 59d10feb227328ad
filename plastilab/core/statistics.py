"""Every statistic the lab reports, in one place and in numpy and math alone (no scipy at run time):
Student's t quantile and the mean ± t interval over seeds, Pearson and Spearman r with their
intervals, the interquartile mean and the stratified bootstrap of RL scores.

The t quantile is exact for every degree of freedom (the t distribution's tail is a regularised
incomplete beta function, inverted by bisection), so a study's table, a run's summary and a
figure's band agree. ``tests/core/test_statistics.py`` checks every function against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

CONFIDENCE = 0.95
MEAN_INTERVAL_LABEL = "t interval (95%)"
BOOTSTRAP_CORRELATION_LABEL = "percentile bootstrap (95%)"
# The normal 0.975 quantile as the Fisher-z interval has always rounded it.
FISHER_Z975 = 1.96

# The continued fraction of the incomplete beta converges in O(√a) terms; this bounds df ~ 1e9.
_MAX_TERMS = 100_000
_TINY = 1e-300


# --- Student's t -------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The ``p``-quantile of Student's t with ``df`` degrees of freedom, to the last bits of a
    float: bisection on its distribution function, an incomplete beta function."""
    if not 0.0 < p < 1.0 or not 0.0 < df < math.inf:
        raise ValueError(f"t quantile needs 0 < p < 1 and finite df > 0, not p={p}, df={df}")
    if p <= 0.5:
        return 0.0 if p == 0.5 else -t_quantile(1.0 - p, df)

    def above(t: float) -> bool:
        # Near the middle P(0 < T < t) keeps its digits, in the tail P(T > t) does (p - 0.5 and
        # 1 - p are exact for p >= 0.5).
        return t_central(t, df) > p - 0.5 if p <= 0.75 else t_upper_tail(t, df) < 1.0 - p

    low, high = 0.0, 1.0
    while not above(high):
        low, high = high, 2.0 * high
    while True:  # halve until the bracket is two adjacent floats
        mid = (low + high) / 2
        if mid <= low or mid >= high:
            return high
        low, high = (low, mid) if above(mid) else (mid, high)


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0: I_x(df/2, 1/2) / 2 with x = df / (df + t²)."""
    log_x, log_1mx = _t_beta_logs(t, df)
    return 0.5 * _incomplete_beta(df / 2, 0.5, log_x, log_1mx)


def t_central(t: float, df: float) -> float:
    """P(0 < T < t) for t >= 0: I_{1-x}(1/2, df/2) / 2."""
    log_x, log_1mx = _t_beta_logs(t, df)
    return 0.5 * _incomplete_beta(0.5, df / 2, log_1mx, log_x)


def _t_beta_logs(t: float, df: float) -> tuple[float, float]:
    """log x and log(1 - x) for x = df / (df + t²), through log1p so neither loses its digits."""
    ratio = t * t / df
    return -math.log1p(ratio), (math.log(ratio) - math.log1p(ratio)) if ratio > 0 else -math.inf


def _incomplete_beta(a: float, b: float, log_x: float, log_1mx: float) -> float:
    """I_x(a, b), given log x and log(1 - x), by its continued fraction (Lentz's method) on the
    side where it converges fast."""
    if log_x == -math.inf or log_1mx == -math.inf:
        return 0.0 if log_x == -math.inf else 1.0
    x = math.exp(log_x)
    log_front = a * log_x + b * log_1mx - _log_beta(a, b)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, math.exp(log_1mx)) / b


def _log_beta(a: float, b: float) -> float:
    """log B(a, b). With one argument large (df/2 of many seeds) lgamma's three values are huge and
    cancel, so there the large one's Γ ratio is taken from Stirling's series, whose terms do not."""
    small, large = min(a, b), max(a, b)
    if large < 30:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(x) = (x - 1/2) log x - x + log(2π)/2 + stirling(x): the ratio of large and large + small.
    ratio = -(large - 0.5) * math.log1p(small / large) - small * math.log(large + small) + small
    return math.lgamma(small) + ratio + _stirling(large) - _stirling(large + small)


def _stirling(x: float) -> float:
    """Stirling's series past its first terms (below 1e-16 relative for x >= 30)."""
    return 1 / (12 * x) - 1 / (360 * x**3) + 1 / (1260 * x**5) - 1 / (1680 * x**7)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), to about two ulps."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _MAX_TERMS):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= c * d
        if abs(c * d - 1.0) < 4e-16:
            return result
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


# --- The mean over seeds -----------------------------------------------------------------------

class Interval(NamedTuple):
    """The mean of the finite values and its t interval: NaN ends below two values, NaN mean for none."""

    n: int  # finite values the interval is over
    mean: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_interval(values: Iterable[Any], confidence: float = CONFIDENCE) -> Interval:
    """Mean ± t((1+confidence)/2, n-1) · s / √n of the finite ``values`` (None and NaN left out),
    s the sample standard deviation. Sums are exact (``math.fsum``)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    mean = math.fsum(finite) / n
    if n == 1:
        return Interval(1, mean, math.nan, math.nan)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(n, mean, mean - half, mean + half)


def column_intervals(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mean_interval`` of every column of ``values`` (seeds × points), NaNs left out: arrays of
    mean, low, high. Vectorised (a chart's band has thousands of points and is redrawn live): one
    quantile per distinct count of finite values, sums in numpy rather than ``math.fsum``."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    quantiles = {int(k): t_quantile((1 + confidence) / 2, int(k) - 1) for k in np.unique(n) if k > 1}
    t = np.array([quantiles.get(int(k), math.nan) for k in n], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, values, 0.0).sum(axis=0) / n
        var = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
        half = t * np.sqrt(var) / np.sqrt(n)
    return mean, mean - half, mean + half


def population_sd(values: Iterable[float]) -> float:
    """The standard deviation of ``values`` as a whole population (divided by n, not n - 1)."""
    values = [float(v) for v in values]
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


# --- Correlations ------------------------------------------------------------------------------

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


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r (NaN when either has no spread)."""
    x = x - x.mean()
    y = y - y.mean()
    denom = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return float((x * y).sum() / denom) if denom > 0 else math.nan


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's r: Pearson's r of the average ranks."""
    return pearson(average_ranks(x), average_ranks(y))


def pearson_fisher_interval(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Pearson r and its Fisher-z 95% interval, tanh(atanh r ± 1.96/√(n-3)) (NaN r below three
    points or without spread, NaN ends below four points or at |r| = 1)."""
    n = len(x)
    if n < 3 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan, math.nan, math.nan
    r = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
    if n < 4 or abs(r) == 1.0:
        return r, math.nan, math.nan
    half = FISHER_Z975 / math.sqrt(n - 3)
    z = math.atanh(r)
    return r, math.tanh(z - half), math.tanh(z + half)


def correlations(target: np.ndarray, stats: dict[str, np.ndarray], n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """For each statistic (NaN = missing): n, Pearson and Spearman r, each with a percentile
    bootstrap 95% interval; strongest |Pearson r| first.

    The bootstrap draws ``n_boot`` resamples of the points once (numpy's generator seeded with
    ``seed``) and weighs every statistic by the same multinomial counts, so all the correlations
    of a study cost one matrix product. Spearman's interval resamples the ranks of the whole
    sample (ranks are not recomputed inside each resample), the usual shortcut; its point
    estimate is exact (average ranks for ties).
    """
    n = len(target)
    columns, rows = [], []
    for name in stats:
        x = np.asarray(stats[name], dtype=float)
        valid = np.isfinite(x) & np.isfinite(target)
        count = int(valid.sum())
        row = {"statistic": name, "n": count, "pearson": math.nan, "spearman": math.nan}
        if count >= 3 and np.ptp(x[valid]) > 0 and np.ptp(target[valid]) > 0:
            xs, ys = x[valid], target[valid]
            rx, ry = average_ranks(xs), average_ranks(ys)
            row["pearson"], row["spearman"] = pearson(xs, ys), pearson(rx, ry)
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


# --- RL scores: IQM and the stratified bootstrap (Agarwal et al. 2021) -------------------------

def iqm(scores: np.ndarray) -> float:
    """Interquartile mean of every score, as ``scipy.stats.trim_mean(scores, 0.25, axis=None)``:
    sort, drop ``int(0.25 * n)`` scores at each end, average the rest."""
    flat = np.sort(np.asarray(scores, dtype=float).ravel())
    cut = int(0.25 * flat.size)
    return float(flat[cut: flat.size - cut].mean())


def stratified_bootstrap(scores: np.ndarray, statistic: Callable[[np.ndarray], Any], reps: int = 2000, seed: int = 0) -> np.ndarray:
    """``statistic`` (a number or a vector) of ``reps`` resamples of an ``(n_runs, n_games)``
    matrix, each drawing ``n_runs`` runs with replacement independently within every game (a
    column): the games are fixed strata, the runs the random draw."""
    scores = np.asarray(scores, dtype=float)
    n_runs, n_games = scores.shape
    rng = np.random.default_rng(seed)
    columns = np.arange(n_games)
    return np.array([statistic(scores[rng.integers(n_runs, size=(n_runs, n_games)), columns]) for _ in range(reps)], dtype=float)


def stratified_interval(
    scores: np.ndarray, statistic: Callable[[np.ndarray], Any], reps: int = 2000, confidence: float = CONFIDENCE, seed: int = 0
) -> tuple[Any, Any, Any]:
    """(point estimate, low, high): the percentile interval of the stratified bootstrap (arrays
    for a vector statistic)."""
    resampled = stratified_bootstrap(scores, statistic, reps, seed)
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(resampled, [alpha, 100 - alpha], axis=0)
    return statistic(np.asarray(scores, dtype=float)), low, high
