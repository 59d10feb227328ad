"""Mean and 95% t interval over seeds, and the groups summary.json gains from <variant>/s<seed>."""

import math

import pytest

from plastilab.core.series_names import split_seeded_name as split_seed
from plastilab.core.statistics import t_quantile
from plastilab.rundir.aggregate import METHOD, group_summaries, interval_record
from plastilab.rundir.summary import SummaryBuilder


@pytest.mark.parametrize("df, expected", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (30, 2.0423), (1000, 1.9623)])
def test_t_quantile_matches_the_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_the_t_interval_of_known_values():
    interval = interval_record([1.0, 2.0, 3.0])
    # mean 2, sample sd 1, half-width t(0.975, 2) / sqrt(3)
    assert interval["mean"] == 2.0 and interval["n"] == 3
    assert interval["half_width"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert (interval["low"], interval["high"]) == pytest.approx((2.0 - interval["half_width"], 2.0 + interval["half_width"]))


def test_one_value_has_no_interval_and_missing_values_are_counted():
    assert interval_record([0.5]) == {"mean": 0.5, "low": None, "high": None, "n": 1, "n_missing": 0, "half_width": None}
    interval = interval_record([1.0, None, float("nan"), 3.0])
    assert (interval["mean"], interval["n"], interval["n_missing"]) == (2.0, 2, 2)
    assert interval_record([None])["mean"] is None


def test_series_names_split_into_variant_and_seed():
    assert split_seed("adam-default/s12") == ("adam-default", 12)
    assert split_seed("class_aligned/mlp/td/s0") == ("class_aligned/mlp/td", 0)
    assert split_seed("adam-default") == ("adam-default", None)
    assert split_seed("x/sgd") == ("x/sgd", None)


def test_the_summary_groups_seeds_of_a_variant():
    builder = SummaryBuilder()
    for seed, losses in ((0, [0.1, 2.0]), (1, [0.3, 2.2]), (2, [0.2, 2.4])):
        for step, loss in enumerate(losses, start=1):
            builder.add(step, f"adam-default/s{seed}", "task/final_loss", loss)
    builder.add(2, "sgd/s0", "task/final_loss", 1.0)
    summary = builder.summary()
    assert summary["interval_method"] == METHOD and "t interval" in METHOD
    group = summary["groups"]["adam-default"]
    assert group["n_seeds"] == 3 and group["seeds"] == [0, 1, 2] and group["method"] == METHOD
    last = group["per_task"]["task/final_loss"][1]
    assert last["mean"] == pytest.approx(2.2) and last["half_width"] == pytest.approx(4.302653 * 0.2 / math.sqrt(3), rel=1e-5)
    assert group["final"]["task/final_loss"]["mean"] == pytest.approx(2.2)
    assert summary["groups"]["sgd"]["n_seeds"] == 1
    # One run of one seed (no /s<seed> names) has no groups.
    single = SummaryBuilder()
    single.add(1, "adam-default", "task/final_loss", 0.1)
    assert "groups" not in single.summary()


def test_group_summaries_of_uneven_seeds_use_the_tasks_each_seed_finished():
    series = {
        "a/s0": {"final": {"x": 1.0}, "per_task": {"task/final_loss": [1.0, 2.0]}},
        "a/s1": {"final": {"x": 3.0}, "per_task": {"task/final_loss": [3.0]}},
    }
    per_task = group_summaries(series)["a"]["per_task"]["task/final_loss"]
    assert [t["n"] for t in per_task] == [2, 1] and per_task[1]["n_missing"] == 1
