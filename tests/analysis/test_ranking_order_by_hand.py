"""The ranking's order and numbers against a table worked out by hand, where ordering by any
other column (the change since the first iterations, the spread, the name) gives another order."""

import pytest

from plastilab.analysis.ranking import format_ranking, rank_combinations

# window 2. final = mean of the last two; change = final - mean of the first two.
LOSSES = {
    "a/s0": [0.1, 0.1, 0.9, 0.9],  # final 0.9, change +0.8, spread 0
    "b/s0": [2.0, 2.0, 1.0, 1.0],  # final 1.0, change -1.0
    "b/s1": [2.0, 2.0, 1.2, 1.2],  # b: final 1.1 (seeds 1.0, 1.2), spread 0.1, change -0.9
    "c/s0": [0.5, 0.5, 0.5, 0.5],  # final 0.5, change 0
}


def test_lower_final_loss_ranks_first_not_the_smaller_change():
    ranking = rank_combinations(LOSSES, window=2)
    assert [(r.rank, r.name) for r in ranking] == [(1, "c"), (2, "a"), (3, "b")]
    c, a, b = ranking
    assert (c.final_loss, c.change, c.spread) == pytest.approx((0.5, 0.0, 0.0))
    assert (a.final_loss, a.change) == pytest.approx((0.9, 0.8))
    assert (b.final_loss, b.change, b.spread) == pytest.approx((1.1, -0.9, 0.1))
    assert (b.n_seeds, b.n_iterations) == (2, 4)


def test_the_window_decides_which_iterations_are_averaged():
    a = rank_combinations({"a/s0": [4.0, 2.0, 1.0]}, window=1)[0]
    assert (a.final_loss, a.change) == pytest.approx((1.0, -3.0))
    a = rank_combinations({"a/s0": [4.0, 2.0, 1.0]}, window=2)[0]
    assert (a.final_loss, a.change) == pytest.approx((1.5, -1.5))
    # a window longer than the run averages every iteration: no change
    a = rank_combinations({"a/s0": [4.0, 2.0, 1.0]}, window=9)[0]
    assert (a.final_loss, a.change) == pytest.approx((7 / 3, 0.0))


def test_ties_in_final_loss_are_broken_by_name():
    ranking = rank_combinations({"z/s0": [1.0], "y/s0": [1.0], "x/s0": [0.5]}, window=1)
    assert [r.name for r in ranking] == ["x", "y", "z"]


def test_the_printed_table_carries_the_numbers():
    lines = format_ranking(rank_combinations(LOSSES, window=2))
    assert lines[0].split() == ["rank", "combination", "final", "loss", "±", "seeds", "change"]
    assert lines[1].split() == ["1", "c", "0.500", "0.000", "+0.000"]
    assert lines[3].split() == ["3", "b", "1.100", "0.100", "-0.900"]


def test_only_a_trailing_seed_number_is_stripped():
    from plastilab.analysis.ranking import combination_of

    assert combination_of("cnn/small/s3") == "cnn/small"
    assert combination_of("mlp/sfoo") == "mlp/sfoo"
    assert combination_of("mlp/s") == "mlp/s"


def test_a_summary_without_series_or_losses_ranks_nothing_it_has_not_got():
    from plastilab.analysis.ranking import ranking_from_summary

    assert ranking_from_summary({}) == []
    summary = {"series": {"a/s0": {}, "b/s0": {"per_task": {}}, "c/s0": {"per_task": {"task/final_loss": [2.0, 1.0]}}}}
    (only,) = ranking_from_summary(summary, window=1)
    assert (only.rank, only.name, only.final_loss, only.change) == (1, "c", 1.0, -1.0)


def test_a_non_finite_combination_prints_nan_in_each_number_column():
    lines = format_ranking(rank_combinations({"a/s0": [1.0, None], "b/s0": [3.0, 2.0]}, window=1))
    assert lines[1].split() == ["1", "b", "2.000", "0.000", "-1.000"]
    assert lines[2].split() == ["2", "a", "nan", "nan", "nan"]
