"""The ranking of intervention combinations, on numbers worked out by hand."""

import math

import pytest

from plastilab.analysis.ranking import (
    as_records,
    combination_of,
    format_ranking,
    rank_combinations,
    ranking_from_summary,
)


def test_combination_of_strips_the_seed():
    assert combination_of("mlp+layer_norm+weight_decay/s12") == "mlp+layer_norm+weight_decay"
    assert combination_of("odd-name") == "odd-name"


def test_rank_by_mean_of_last_iterations_with_spread_and_change():
    losses = {
        "mlp+none/s0": [0.0, 0.2, 2.0, 2.2],
        "mlp+none/s1": [0.2, 0.0, 1.8, 2.0],
        "mlp+redo/s0": [0.1, 0.1, 0.3, 0.1],
        "mlp+redo/s1": [0.1, 0.1, 0.1, 0.3],
    }
    first, second = rank_combinations(losses, window=2)
    assert (first.rank, first.name, second.name) == (1, "mlp+redo", "mlp+none")
    assert first.final_loss == pytest.approx(0.2) and first.spread == pytest.approx(0.0)
    assert first.change == pytest.approx(0.1)
    assert second.final_loss == pytest.approx(2.0) and second.spread == pytest.approx(0.1)  # seeds: 2.1, 1.9
    assert second.change == pytest.approx(1.9)
    assert (second.n_seeds, second.n_iterations) == (2, 4)


def test_non_finite_losses_rank_last_and_unfinished_seeds_are_cut_to_common_length():
    losses = {"a/s0": [1.0, None], "b/s0": [5.0, 5.0, 5.0], "b/s1": [5.0, 4.0]}
    ranking = rank_combinations(losses, window=1)
    assert [r.name for r in ranking] == ["b", "a"]
    assert ranking[0].n_iterations == 2 and ranking[0].final_loss == pytest.approx(4.5)
    assert ranking[1].final_loss is None and ranking[1].change is None
    assert "nan" in format_ranking(ranking)[2]


def test_ranking_from_a_summary_json():
    summary = {
        "series": {
            "cnn+none/s0": {"per_task": {"task/final_loss": [1.0, 3.0]}},
            "cnn+two_hot/s0": {"per_task": {"task/final_loss": [1.0, 1.0]}},
            "cnn+empty/s0": {"per_task": {}},
        }
    }
    records = as_records(ranking_from_summary(summary, window=1))
    assert [r["name"] for r in records] == ["cnn+two_hot", "cnn+none"]
    assert records[1]["change"] == 2.0 and not math.isnan(records[1]["spread"])
