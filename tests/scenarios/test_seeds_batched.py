"""Seeds trained as one stack are the same runs as each seed trained alone (within float
tolerance: a batched matmul sums in another order than a single one)."""

import math

import pytest

from plastilab.core.driver import drive
from plastilab.core.events import RunFinished, Scalars
from plastilab.core.scenario_file import validate_scenario

SCENARIO = {
    "kind": "adam_instability",
    "name": "seeds-identity",
    "data": {"n_images": 64},
    "model": {"hidden": [16, 16]},
    "training": {"n_tasks": 2, "steps_per_task": 30, "batch_size": 16, "lr": 3e-3, "log_every": 5},
    "variants": {
        "adam-default": {"optimizer": "adam"},
        "adam-beta2-eps": {"optimizer": "adam", "beta2": 0.9, "eps": 1e-3},
        "sgd": {"optimizer": "sgd", "momentum": 0.9},
    },
    # The instruments see each seed's network (a view into the stack when stacked).
    "instruments": {
        "probe": {"every": 30, "family": "random_labels", "n_targets": 2, "probe_steps": 10, "n_examples": 32},
        "stats": {"every": 15, "n_examples": 32},
    },
}


class Collect:
    def __init__(self):
        self.values = {}

    def handle(self, event):
        if isinstance(event, Scalars):
            for tag, value in event.values.items():
                self.values[(event.series, event.step, tag)] = value


def run(**fields):
    from plastilab.core.scenario_file import Scenario

    config = validate_scenario({**SCENARIO, **fields, "training": {**SCENARIO["training"], **fields.pop("training", {})}}, "test")
    collect = Collect()
    end = drive(Scenario(None, config), [collect])
    assert isinstance(end, RunFinished)
    return collect.values


@pytest.mark.parametrize("stack", ["on", "off"])
def test_each_seed_of_a_multi_seed_run_is_the_run_of_that_seed_alone(stack):
    together = run(seeds=[3, 5], training={"stack_seeds": stack})
    for seed in (3, 5):
        alone = run(seed=seed)
        for (series, step, tag), value in alone.items():
            other = together[(f"{series}/s{seed}", step, tag)]
            assert math.isclose(other, value, rel_tol=1e-4, abs_tol=1e-5), (series, seed, step, tag, value, other)
    assert len(together) == 2 * len(alone)


def test_series_are_named_by_seed_only_when_more_than_one_seed_runs():
    config = validate_scenario({**SCENARIO, "seeds": 2, "seed": 4}, "test")
    assert config.series()[:2] == ["adam-default/s4", "adam-default/s5"]
    assert validate_scenario(SCENARIO, "test").series()[0] == "adam-default"
