"""How a study packs its trials into populations: who may share a run, and how big one gets.

Plain planning, no training: each test reads a small study file and checks the plan."""

from __future__ import annotations

import math

import pytest

from plastilab.core.errors import ScenarioError
from plastilab.core.memory_estimate import population_total
from plastilab.core.registry import SCENARIO_KINDS
from plastilab.studies.populations import MAX_POPULATION, check_population_flags, plan, products, split
from plastilab.studies.study_file import check_study, load_study_plan
from studies_helpers import tiny_study

BLOCK_MDP = SCENARIO_KINDS["block_mdp"].load_population()


def study_of(tmp_path, axes: str, seeds: int = 1, extra: list[str] = ()):
    path, settings = tiny_study(tmp_path, seeds=seeds, axes=axes)
    study = load_study_plan(path, [*settings, *extra])
    return study, {t.id: s for t, s in zip(study.trials, check_study(study))}


def assert_products(populations, scenarios) -> None:
    """Every population is a whole product of rewards × agents × seeds: the merged run trains
    nothing for nobody, and each trial once."""
    for population in populations:
        points = [BLOCK_MDP.point(scenarios[t.id].config) for t in population]
        rewards, agents, seeds = ({p[i] for p in points} for i in range(3))
        assert len(set(points)) == len(points) == len(rewards) * len(agents) * len(seeds)


def ids(populations) -> list[list[str]]:
    return [[t.id for t in population] for population in populations]


AXES = '"env.rewards" = [["class_aligned"], ["image_random"], ["sparse"]]\n"agents.mlp.optimizer" = ["adam", "rmsprop"]'


def test_trials_that_differ_only_in_seed_reward_and_optimiser_share_one_population(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, seeds=3)
    populations = plan(study.trials, scenarios, workers=1, size=None)
    assert ids(populations) == [[t.id for t in study.trials]]  # 18 trials, one worker: one run
    merged, members = BLOCK_MDP.merge([scenarios[t.id].config for t in study.trials], "m")
    assert merged["env"]["rewards"] == ["class_aligned", "image_random", "sparse"] and merged["seeds"] == [0, 1, 2]
    assert [a["optimizer"] for a in merged["agents"].values()] == ["adam", "rmsprop"]
    # t000 is class_aligned, adam, seed 0; alone it writes mlp/td, in the run it is the first agent's.
    assert members[0].series == {"class_aligned/a0/td/s0": "mlp/td"}


def test_a_different_shape_data_or_budget_is_a_different_population(tmp_path):
    axes = AXES + '\n"agents.mlp.hidden" = [[32, 32], [16]]\n"training.total_steps" = [150, 100]'
    study, scenarios = study_of(tmp_path, axes)
    populations = plan(study.trials, scenarios, workers=1, size=None)
    assert len(populations) == 4 and all(len(p) == 6 for p in populations)
    for population in populations:
        configs = [scenarios[t.id].config for t in population]
        assert len({(tuple(c.agents["mlp"].hidden), c.training.total_steps) for c in configs}) == 1
    assert_products(populations, scenarios)


def test_a_trial_that_checkpoints_or_trains_several_agents_runs_alone(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, extra=["checkpoint_every=50"])
    assert ids(plan(study.trials, scenarios, workers=1)) == [[t.id] for t in study.trials]
    study, scenarios = study_of(tmp_path, '"agents.mlp.optimizer" = ["adam", "rmsprop"]', extra=['env.rewards=["class_aligned", "sparse"]'])
    assert ids(plan(study.trials, scenarios, workers=1)) == [["t000"], ["t001"]]
    assert "several" in BLOCK_MDP.why_not_packed(scenarios["t000"].config)


def test_the_size_is_cut_along_the_axis_that_leaves_fewest_pieces(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, seeds=3)  # 3 rewards x 2 optimisers x 3 seeds
    by_size = {size: plan(study.trials, scenarios, workers=1, size=size) for size in (9, 6, 4, 1)}
    for size, populations in by_size.items():
        assert sorted(t.id for p in populations for t in p) == [t.id for t in study.trials]
        assert max(len(p) for p in populations) <= size
        assert_products(populations, scenarios)
    assert [len(p) for p in by_size[9]] == [9, 9]  # one optimiser each: 3 rewards x 3 seeds
    assert {scenarios[t.id].config.agents["mlp"].optimizer for t in by_size[9][0]} == {"adam"}
    assert [len(p) for p in by_size[6]] == [6, 6, 6]  # one seed each: 3 rewards x 2 optimisers
    assert {scenarios[t.id].config.seed for t in by_size[6][1]} == {1}
    assert len(by_size[4]) == 6 and len(by_size[1]) == 18


def test_the_default_size_leaves_every_worker_a_population_and_is_capped(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, seeds=3)
    assert [len(p) for p in plan(study.trials, scenarios, workers=2)] == [9, 9]
    assert [len(p) for p in plan(study.trials, scenarios, workers=3)] == [6, 6, 6]
    assert len(plan(study.trials, scenarios, workers=18)) == 18
    assert MAX_POPULATION < 128  # a 128-agent study on one worker still runs as several populations


def test_a_population_that_does_not_fit_in_memory_is_split_never_refused(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, seeds=3)
    configs = [scenarios[t.id].config for t in study.trials]
    one, six = population_total(configs[:1]), population_total(configs[:6])
    assert one < six < 6 * one  # the images and instruments are counted once, not once a trial
    populations = plan(study.trials, scenarios, workers=1, memory_budget=six)
    assert max(len(p) for p in populations) <= 6
    assert all(population_total([scenarios[t.id].config for t in p]) <= six for p in populations)
    assert_products(populations, scenarios)
    # Less than one trial needs: each trial alone (its own preflight says whether it fits).
    assert len(plan(study.trials, scenarios, workers=1, memory_budget=one // 2)) == 18


def test_an_explicit_trial_list_is_packed_as_products_each_trial_once():
    # (reward, agent, seed) points that are no single product: a, b on both seeds; c on seed 0.
    points = [("r1", "a", 0), ("r1", "a", 1), ("r1", "b", 0), ("r1", "b", 1), ("r2", "a", 0)]
    found = products(points)
    covered = [(r, a, s) for rewards, agents, seeds in found for r in rewards for a in agents for s in seeds]
    assert sorted(covered) == sorted(points)
    assert (("r1",), ("a", "b"), (0, 1)) in found
    # A product of 5 seeds cut to at most 2 a piece: near-equal pieces.
    pieces = split((("r",), ("a",), (0, 1, 2, 3, 4)), 2)
    assert [len(p[2]) for p in pieces] == [1, 2, 2] or [len(p[2]) for p in pieces] == [2, 1, 2]
    assert sum(math.prod(len(a) for a in p) for p in pieces) == 5


def test_gpus_per_trial_below_a_card_caps_a_population_at_one_card(tmp_path):
    study, scenarios = study_of(tmp_path, AXES, extra=["device=cuda"])
    quarter = plan(study.trials, scenarios, workers=1, gpus_per_trial=0.25)  # 6 trials, 4 a card
    assert [len(p) for p in quarter] == [3, 3]
    assert ids(plan(study.trials, scenarios, workers=1, gpus_per_trial=1)) == [[t.id] for t in study.trials]


@pytest.mark.parametrize(
    "size, gpus, executor, words",
    [
        (0, None, "local", "--population-size: found 0"),
        (None, 0.5, "local", "--gpus-per-trial: only for --executor ray"),
        (None, 1.5, "ray", "--gpus-per-trial: found 1.5"),
        (None, 0.0, "ray", "--gpus-per-trial: found 0"),
    ],
)
def test_bad_population_flags_are_one_line_errors(size, gpus, executor, words):
    with pytest.raises(ScenarioError) as raised:
        check_population_flags(size, gpus, executor)
    assert str(raised.value).startswith(words) and "\n" not in str(raised.value)
    check_population_flags(2, 0.25, "ray")  # these are fine
    check_population_flags(1, 2.0, "ray")


def test_validate_says_how_this_machine_would_pack_the_study(tmp_path):
    from plastilab.studies.populations import describe_plan

    study, scenarios = study_of(tmp_path, AXES, seeds=3)
    assert describe_plan(study, list(scenarios.values()), workers=2) == "here: 2 populations of 9 on 2 workers"
    assert describe_plan(study, list(scenarios.values()), workers=18) == "here: each trial alone on 18 workers"


def test_the_shipped_132_agent_study_packs_into_populations_that_fit_a_laptop():
    from pathlib import Path

    study = load_study_plan(Path(__file__).resolve().parents[2] / "scenarios" / "falsification-128.toml")
    scenarios = {t.id: s for t, s in zip(study.trials, check_study(study))}
    assert len(study.trials) == 132
    roomy = plan(study.trials, scenarios, workers=2)  # no memory limit: two populations a torso
    assert sorted(len(p) for p in roomy) == [30, 30, 36, 36]
    laptop = plan(study.trials, scenarios, workers=2, memory_budget=10**9)  # 1 GB a worker
    assert len(laptop) > len(roomy)
    assert all(population_total([scenarios[t.id].config for t in p]) <= 10**9 for p in laptop)
    assert sorted(t.id for p in laptop for t in p) == [t.id for t in study.trials]
    assert_products(laptop, scenarios)
