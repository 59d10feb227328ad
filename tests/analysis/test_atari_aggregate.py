"""The RL aggregate (Agarwal et al. 2021) on synthetic scores: point estimates against rliable's
own functions, the stratified bootstrap interval against the exact bootstrap distribution.

``rliable.library`` (its bootstrap) does not import with pandas 3 (its arch dependency breaks),
so the interval is checked against a hand-computed reference instead: on 3 runs x 2 games every
stratified resample can be enumerated (27 x 27 equally likely ones), which gives the exact
percentiles the Monte-Carlo bootstrap must approach.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rliable import metrics

from plastilab.analysis import rl_aggregate as agg
from plastilab.core.statistics import iqm, stratified_bootstrap, stratified_interval


def synthetic_scores(seed: int, runs: int = 5, games: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    difficulty = rng.lognormal(0.0, 1.0, size=games)  # games differ by orders of magnitude
    return rng.gamma(2.0, difficulty / 2.0, size=(runs, games)) - 0.1


@pytest.mark.parametrize("seed", range(5))
def test_point_estimates_match_rliable(seed):
    scores = synthetic_scores(seed)
    assert iqm(scores) == pytest.approx(metrics.aggregate_iqm(scores), rel=1e-12)
    assert agg.median(scores) == pytest.approx(metrics.aggregate_median(scores), rel=1e-12)
    assert agg.mean(scores) == pytest.approx(metrics.aggregate_mean(scores), rel=1e-12)
    assert agg.optimality_gap(scores) == pytest.approx(metrics.aggregate_optimality_gap(scores), rel=1e-12)


def test_iqm_ignores_the_outer_quartiles():
    scores = np.array([[0.0, 1.0, 2.0, 100.0], [-50.0, 1.0, 2.0, 3.0]])  # 8 scores: cut 2 at each end
    assert iqm(scores) == pytest.approx(np.mean([1.0, 1.0, 2.0, 2.0]))


def exact_bootstrap(scores: np.ndarray, statistic) -> np.ndarray:
    """The statistic on every stratified resample (all equally likely): runs drawn with
    replacement within each game, independently across games."""
    runs, games = scores.shape
    per_game = [list(itertools.product(range(runs), repeat=runs)) for _ in range(games)]
    values = []
    for choice in itertools.product(*per_game):
        resample = np.column_stack([scores[list(rows), g] for g, rows in enumerate(choice)])
        values.append(statistic(resample))
    return np.array(values)


def test_the_stratified_interval_approaches_the_exact_bootstrap():
    scores = np.array([[0.1, 2.0], [0.5, 3.5], [0.9, 8.0]])
    exact = exact_bootstrap(scores, iqm)
    low, high = np.percentile(exact, [2.5, 97.5])
    point, mc_low, mc_high = stratified_interval(scores, iqm, reps=20_000, seed=1)
    assert point == iqm(scores)
    span = exact.max() - exact.min()
    assert abs(mc_low - low) < 0.05 * span and abs(mc_high - high) < 0.05 * span
    # resampling within games only: a game's scores never appear in another game's column
    resampled = stratified_bootstrap(scores, lambda s: float(np.all(np.isin(s[:, 1], scores[:, 1]))), reps=200)
    assert resampled.min() == 1.0


def test_the_interval_covers_the_truth_over_many_synthetic_studies():
    """Coverage of the 95% interval of the mean over many draws: near 95% (bootstrap intervals
    on few runs under-cover a little; the margin is from a run of 200 studies)."""
    truth_rng = np.random.default_rng(0)
    centres = truth_rng.uniform(0.0, 2.0, size=6)
    covered = 0
    for study in range(200):
        rng = np.random.default_rng(1000 + study)
        scores = centres + rng.normal(0.0, 0.5, size=(10, 6))
        _, low, high = stratified_interval(scores, agg.mean, reps=300, seed=study)
        covered += low <= centres.mean() <= high
    assert 0.85 <= covered / 200 <= 0.99


def test_performance_profile_is_the_fraction_above_each_threshold():
    scores = synthetic_scores(3)
    taus = np.linspace(-0.5, 5.0, 12)
    expected = np.array([np.mean(scores > t) for t in taus])
    profile, low, high = stratified_interval(scores, lambda s: agg.performance_profile(s, taus), reps=500, seed=0)
    np.testing.assert_allclose(profile, expected)
    assert np.all(np.diff(profile) <= 0) and np.all(low <= profile + 1e-12) and np.all(profile <= high + 1e-12)


def test_score_matrices_keep_the_seeds_every_game_has():
    entries = [("ln", g, s, float(s)) for g in ("Pong", "Breakout") for s in (0, 1, 2)] + [("none", "Pong", 0, 1.0), ("none", "Breakout", 0, 2.0), ("none", "Breakout", 1, 3.0)]
    matrices, games, dropped = agg.score_matrices(entries)
    assert games == ["Breakout", "Pong"]
    assert matrices["ln"].shape == (3, 2) and matrices["none"].shape == (1, 2)
    assert dropped == {"ln": 0, "none": 1}
    summary = agg.summarize(matrices, reps=100)
    assert set(summary["algorithms"]) == {"ln", "none"}
    assert summary["algorithms"]["ln"]["iqm"]["low"] <= summary["algorithms"]["ln"]["iqm"]["value"] <= summary["algorithms"]["ln"]["iqm"]["high"]


def test_a_study_of_games_and_layer_norm_aggregates_and_reports_per_algorithm():
    """What `plastilab report` prints for an Atari study, from its trials' final values."""
    import io

    from plastilab.headless.study_report import _print_rl_aggregate
    from plastilab.studies.study_file import Trial

    finals = []
    for game in ("Pong", "Breakout", "Boxing"):
        for layer_norm in (False, True):
            for seed in (0, 1, 2):
                overrides = {"env.game": game, "agents.dqn.layer_norm": layer_norm, "seed": seed}
                score = 0.1 * seed + (0.5 if layer_norm else 0.0)
                trial = Trial(f"t-{game}-{layer_norm}-{seed}", overrides, {"kind": "atari", "env": {"game": game}})
                finals.append({"trial": trial, "series": "dqn", "final": {"eval/human_normalized": score, "td/loss": 0.1}})
    rl = agg.study_summary(finals, reps=200)
    assert rl["games"] == ["Boxing", "Breakout", "Pong"]
    with_ln, without = rl["algorithms"]["agents.dqn.layer_norm=true"], rl["algorithms"]["agents.dqn.layer_norm=false"]
    assert with_ln["runs"] == 3 and with_ln["games"] == 3
    assert with_ln["iqm"]["value"] == pytest.approx(0.6) and without["iqm"]["value"] == pytest.approx(0.1)
    assert agg.study_summary([{**finals[0], "final": {"td/loss": 0.1}}]) is None  # not an Atari study
    out = io.StringIO()
    _print_rl_aggregate(rl, out)
    text = out.getvalue()
    assert "agents.dqn.layer_norm=true" in text and "IQM" in text and "performance profile" in text
