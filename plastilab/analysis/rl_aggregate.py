"""Aggregate RL scores across games and seeds the way Agarwal et al. (2021) recommend.

Agarwal, Schwarzer, Castro, Courville & Bellemare (2021), "Deep Reinforcement Learning at the
Edge of the Statistical Precipice" (NeurIPS), and their ``rliable`` library:

* the interquartile mean (IQM): the mean of the middle 50% of all (run, game) scores, robust to
  outlier games yet using far more of the data than the median;
* stratified bootstrap confidence intervals: resample the runs *within each game* (the games
  are fixed strata, the seeds the random draw) and read the percentile interval of the statistic;
* performance profiles: for each threshold τ, the fraction of all (run, game) scores above τ.

Scores are ``(n_runs, n_games)`` arrays of human-normalised scores, one per algorithm (e.g. with
and without layer norm). The IQM and the stratified bootstrap are ``core.statistics``' (plain
numpy, so ``report`` prints them without scipy or ``rliable``); ``tests/test_atari_aggregate.py``
checks every aggregate against ``rliable``'s own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from plastilab.core.statistics import iqm, stratified_interval

Statistic = Callable[[np.ndarray], float]


def median(scores: np.ndarray) -> float:
    """Median over games of the mean score over runs (the classic Atari aggregate)."""
    return float(np.median(np.asarray(scores, dtype=float).mean(axis=0)))


def mean(scores: np.ndarray) -> float:
    """Mean over games of the mean score over runs."""
    return float(np.asarray(scores, dtype=float).mean(axis=0).mean())


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """How far the scores fall short of ``gamma`` (human level), on average: lower is better."""
    return float(gamma - np.minimum(np.asarray(scores, dtype=float), gamma).mean())


AGGREGATES: dict[str, Statistic] = {"iqm": iqm, "median": median, "mean": mean, "optimality_gap": optimality_gap}


def performance_profile(scores: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """For each τ, the fraction of all (run, game) scores above τ (rliable's score distribution)."""
    scores = np.asarray(scores, dtype=float)
    return np.array([float(np.mean(scores > tau)) for tau in taus])


def score_matrices(entries: Sequence[tuple[str, str, Any, float]]) -> tuple[dict[str, np.ndarray], list[str], dict[str, int]]:
    """``(algorithm, game, seed, score)`` rows -> per algorithm an ``(n_runs, n_games)`` matrix.

    The stratified bootstrap needs as many runs of every game: each algorithm keeps the seeds it
    has for every game (its dropped runs are counted in the third value). Games are sorted.
    """
    games = sorted({game for _, game, _, _ in entries})
    by_algorithm: dict[str, dict[str, dict[Any, float]]] = {}
    for algorithm, game, seed, score in entries:
        if score is not None and math.isfinite(score):
            by_algorithm.setdefault(algorithm, {}).setdefault(game, {})[seed] = float(score)
    matrices, dropped = {}, {}
    for algorithm, per_game in by_algorithm.items():
        if set(per_game) != set(games):
            dropped[algorithm] = sum(len(s) for s in per_game.values())
            continue
        common = sorted(set.intersection(*(set(s) for s in per_game.values())), key=str)
        if not common:
            dropped[algorithm] = sum(len(s) for s in per_game.values())
            continue
        matrices[algorithm] = np.array([[per_game[g][seed] for g in games] for seed in common])
        dropped[algorithm] = sum(len(s) for s in per_game.values()) - len(common) * len(games)
    return matrices, games, dropped


def summarize(
    matrices: Mapping[str, np.ndarray], reps: int = 2000, confidence: float = 0.95, seed: int = 0,
    taus: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Every aggregate with its interval, and the performance profile, per algorithm (JSON-ready)."""
    if taus is None:
        top = max((float(np.max(m)) for m in matrices.values()), default=1.0)
        taus = list(np.linspace(0.0, max(top, 1.0), 21))
    out: dict[str, Any] = {"interval": f"stratified bootstrap, {reps} resamples, {confidence:.0%} percentile", "taus": [float(t) for t in taus], "algorithms": {}}
    for algorithm, scores in matrices.items():
        row: dict[str, Any] = {"runs": int(scores.shape[0]), "games": int(scores.shape[1])}
        for name, statistic in AGGREGATES.items():
            point, low, high = stratified_interval(scores, statistic, reps, confidence, seed)
            row[name] = {"value": point, "low": float(low), "high": float(high)}
        profile, low, high = stratified_interval(scores, lambda s: performance_profile(s, taus), reps, confidence, seed)
        row["profile"] = {"value": profile.tolist(), "low": low.tolist(), "high": high.tolist()}
        out["algorithms"][algorithm] = row
    return out


SCORE_TAG = "eval/human_normalized"


def study_summary(finals: Sequence[dict[str, Any]], reps: int = 2000, seed: int = 0) -> dict[str, Any] | None:
    """The aggregate of a study whose trials log ``eval/human_normalized`` (None otherwise).

    ``finals`` are the study's finished trials as ``{"trial": Trial, "series": str, "final":
    {tag: value}}``. A trial's game is its scenario's ``env.game``; its algorithm is every other
    override but the seed (e.g. ``agents.dqn.layer_norm=True``), with the series name when a
    trial logs several; the seed is the run.
    """
    entries = []
    several_series = len({e["series"] for e in finals}) > 1
    for entry in finals:
        score = entry["final"].get(SCORE_TAG)
        trial = entry["trial"]
        game = trial.scenario.get("env", {}).get("game")
        if score is None or game is None:
            continue
        parts = [f"{k}={_show(v)}" for k, v in trial.overrides.items() if k not in ("seed", "env.game")]
        if several_series:
            parts.append(entry["series"])
        entries.append((", ".join(parts) or "all", game, trial.overrides.get("seed"), score))
    if not entries:
        return None
    matrices, games, dropped = score_matrices(entries)
    summary = summarize(matrices, reps=reps, seed=seed)
    summary.update({"tag": SCORE_TAG, "games": games, "dropped_runs": dropped})
    return summary


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
