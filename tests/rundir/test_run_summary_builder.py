"""The summary a run folder keeps (summary.json), built from scalars alone: last values, per-task
values in order, last steps, and, for series named ``<variant>/s<seed>``, each variant's mean
and 95% t interval over seeds. Expected values are worked out by hand in each test."""

from __future__ import annotations

import pytest

from plastilab.rundir.summary import SummaryBuilder


def test_final_values_per_task_values_and_last_steps_of_each_series():
    builder = SummaryBuilder()
    builder.add(0, "a", "task/index", 0.0)
    builder.add(10, "a", "train/loss", 2.0)
    builder.add(30, "a", "task/final_loss", 0.5)
    builder.add(60, "a", "task/final_loss", 0.25)
    builder.add(60, "a", "task/index", 1.0)
    builder.add(20, "a", "train/loss", 1.0)  # an earlier step arriving late: the last step stays 60
    builder.add(0, "b", "train/loss", 3.0)
    assert builder.summary() == {
        "series": {
            "a": {
                "last_step": 60,
                "final": {"task/index": 1.0, "train/loss": 1.0, "task/final_loss": 0.25},
                "per_task": {"task/final_loss": [0.5, 0.25]},  # task/index marks tasks, it is not one
            },
            "b": {"last_step": 0, "final": {"train/loss": 3.0}, "per_task": {}},
        }
    }


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_value_that_is_not_finite_is_kept_as_missing(bad):
    builder = SummaryBuilder()
    builder.add(10, "a", "task/final_loss", 0.5)
    builder.add(20, "a", "task/final_loss", bad)
    builder.add(20, "a", "train/loss", bad)
    builder.add(20, "a", "grads/norm", None)
    series = builder.summary()["series"]["a"]
    assert series["final"] == {"task/final_loss": None, "train/loss": None, "grads/norm": None}
    assert series["per_task"] == {"task/final_loss": [0.5, None]}


def test_seeds_of_a_variant_get_its_mean_and_t_interval():
    builder = SummaryBuilder()
    builder.add(10, "adam/s0", "train/loss", 0.5)
    builder.add(10, "adam/s1", "train/loss", 0.7)
    builder.add(10, "sgd", "train/loss", 9.0)  # no seed in its name: no group
    summary = builder.summary()
    assert summary["interval_method"] == "95% t interval"
    assert list(summary["groups"]) == ["adam"]
    adam = summary["groups"]["adam"]
    assert adam["n_seeds"] == 2 and adam["seeds"] == [0, 1]
    loss = adam["final"]["train/loss"]
    # mean 0.6; sample sd 0.1414; t(0.975, 1) = 12.706 from a t table: half width 12.706 * 0.1414 / sqrt(2) = 1.2706
    assert loss["mean"] == pytest.approx(0.6) and loss["n"] == 2
    assert loss["low"] == pytest.approx(0.6 - 1.2706, abs=1e-3) and loss["high"] == pytest.approx(0.6 + 1.2706, abs=1e-3)


def test_without_seeded_series_there_are_no_groups():
    builder = SummaryBuilder()
    builder.add(10, "adam", "train/loss", 0.5)
    assert set(builder.summary()) == {"series"}
