"""The block-MDP scenario with its combinations trained as a population.

Three reward variants and two agents that differ in learning rate make six combinations, one
population of six. Each series must hold the numbers it holds when every combination trains
alone (``training.population = "off"``), bit for bit on the CPU, instruments included; a run
stopped after a checkpoint and resumed must write what an uninterrupted one writes.
"""

from __future__ import annotations

import pytest
import torch

from plastilab.core.driver import drive
from plastilab.core.events import RunFailed, RunFinished, Scalars, SeriesFailed
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.scenarios.block_mdp.learners import POPULATION_PAYS, groups_of_compatible, trains_as_population
from plastilab.scenarios.block_mdp.runner import populations_hold_seeds
from resume_helpers import assert_same_run
from block_mdp_helpers import TINY, numbers, run_to_folder
from resume_helpers import BLOCK_MDP, run_twice

SIX = [
    "env.rewards=['class_aligned', 'image_random', 'sparse']",
    "agents.fast={hidden=[32, 32], learning_starts=50, batch_size=16, buffer_size=1000, target_network_frequency=100, learning_rate=3e-3}",
    "training.total_steps=200",
    "instruments.covariance.every=100",
    "instruments.hessian.every=0",  # it logs how long its products took: times differ between runs
]


@pytest.mark.timeout(900)
def test_every_series_writes_the_same_numbers_alone_and_inside_a_population(tmp_path):
    torch.set_num_threads(1)
    together, _ = run_to_folder([*SIX, "training.population='on'"], tmp_path / "on")
    alone, _ = run_to_folder([*SIX, "training.population='off'"], tmp_path / "off")
    written = numbers(together)
    assert written == numbers(alone)
    series = {s for s, _, _, _ in written}
    assert series == {f"{r}/{a}/{p}" for r in ("class_aligned", "image_random", "sparse") for a in ("mlp", "fast") for p in ("td", "brownian")}
    tags = {(s, t) for s, _, t, _ in written}
    for s in series:  # the instruments measured each agent through its own module
        assert {(s, "probe/plasticity_loss"), (s, "units/dead_fraction"), (s, "gradients/mean_similarity")} <= tags
    assert [v for s, _, t, v in written if s == "sparse/fast/td" and t == "td/loss"]  # it trained


@pytest.mark.timeout(900)
def test_a_population_run_resumed_equals_uninterrupted(tmp_path):
    overrides = [*BLOCK_MDP, "env.rewards=['class_aligned', 'sparse']", "training.population='on'"]
    whole, resumed, saved = run_twice(tmp_path, TINY.name, overrides, stop_step=110)
    assert saved["step"] == 100
    agent = saved["runner"]["combinations"][1]["agent"]
    assert agent["replay_buffer"]["size"] == 100 and agent["replay_buffer"]["observations"].dtype == torch.int32  # indices travel
    assert agent["optimizer"]["step"] == 100 - 30  # the agent's own optimiser state: learning started after 30
    assert_same_run(resumed, whole)


def test_auto_trains_compatible_agents_together_where_the_bench_found_it_pays():
    config = load_scenario(TINY, [*SIX, "agents.cnn={torso='cnn'}"]).config
    agents = [config.agents[name] for _, name, _ in config.combinations()]
    # mlp and fast differ only in their learning rate; the cnn has another network
    assert groups_of_compatible(agents) == [[0, 1, 3, 4, 6, 7], [2, 5, 8]]
    assert trains_as_population("on", 1, "cpu") and not trains_as_population("off", 32, "cpu")
    assert trains_as_population("auto", POPULATION_PAYS["cpu"], "cpu")
    assert not trains_as_population("auto", POPULATION_PAYS["cpu"] - 1, "cpu")
    # seeds go together where the largest compatible group over every seed pays
    two_torsos = load_scenario(TINY, ["agents.cnn={torso='cnn'}"], seeds=POPULATION_PAYS["cpu"] - 1).config
    assert not populations_hold_seeds(two_torsos, "cpu")  # 2 seeds x 1 mlp, 2 seeds x 1 cnn
    assert populations_hold_seeds(load_scenario(TINY, [], seeds=POPULATION_PAYS["cpu"]).config, "cpu")


@pytest.mark.timeout(600)
def test_an_agent_whose_loss_blows_up_ends_its_own_series_not_its_neighbours(tmp_path):
    blowing = [
        "env.rewards=['class_aligned', 'sparse']",
        "agents.fast={hidden=[32, 32], learning_starts=50, batch_size=16, buffer_size=1000, target_network_frequency=100, learning_rate=1e30}",
        "training.total_steps=150",
        "instruments.hessian.every=0",
    ]
    # As a study's population runs it (the driver passes SeriesFailed on): the failing agent's
    # series stop, each with the line naming the key to lower; its neighbours run to the end.
    scenario = load_scenario(TINY, [*blowing, "training.population='on'"])
    events = []

    class Collect:
        def handle(self, event):
            events.append(event)

    end = drive(scenario, [Collect()], series_may_fail=True)
    assert isinstance(end, RunFinished), end
    last = {}
    for event in events:
        if isinstance(event, Scalars):
            last[event.series] = max(last.get(event.series, 0), event.step)
    for reward in ("class_aligned", "sparse"):
        assert last[f"{reward}/mlp/td"] == 150  # the neighbours ran on
        assert 0 < last[f"{reward}/fast/td"] < 150  # it wrote, then stopped
    failures = [e for e in events if isinstance(e, SeriesFailed)]
    assert {e.series for e in failures} == {"class_aligned/fast/td", "sparse/fast/td"}
    assert all("agents.fast.learning_rate" in e.error for e in failures)
    # A plain run (population or not) ends failed at the first such series, with its line.
    for population in ("on", "off"):
        _, end = run_to_folder([*blowing, f"training.population='{population}'"], tmp_path / population)
        assert isinstance(end, RunFailed) and "agents.fast.learning_rate" in end.error


@pytest.mark.timeout(900)
def test_seeds_trained_together_write_what_seeds_one_after_another_write(tmp_path):
    # Two seeds: each draws its own images, so the population shows two image sets end to end.
    overrides = [*SIX[:1], "seeds=2", "training.total_steps=150", "instruments.covariance.every=50", "instruments.hessian.every=0"]
    together, _ = run_to_folder([*overrides, "training.population='on'"], tmp_path / "on")
    apart, _ = run_to_folder([*overrides, "training.population='off'"], tmp_path / "off")
    written = sorted(numbers(together), key=lambda n: (n[0], n[1], n[2]))
    assert written == sorted(numbers(apart), key=lambda n: (n[0], n[1], n[2]))
    assert {s for s, _, _, _ in written} == {f"{r}/mlp/{p}/s{seed}" for r in ("class_aligned", "image_random", "sparse") for p in ("td", "brownian") for seed in (0, 1)}


@pytest.mark.timeout(900)
def test_seeds_trained_together_resumed_equal_uninterrupted(tmp_path):
    overrides = [*BLOCK_MDP, "training.population='on'"]
    whole, resumed, saved = run_twice(tmp_path, TINY.name, overrides, stop_step=110, seeds=2)
    assert saved["step"] == 100 and saved["position"] == {}  # one loop for both seeds
    # each combination keeps its own measurement stream (seeded from its seed)
    streams = [combo["measure_stream"] for combo in saved["runner"]["combinations"]]
    assert len(streams) == 2 and not torch.equal(streams[0], streams[1])
    assert_same_run(resumed, whole)


SWITCHING = [
    "env.rewards=['class_aligned', 'sparse']",
    "env.switch_every=70",
    "agents.fast={hidden=[32, 32], learning_starts=50, batch_size=16, buffer_size=1000, target_network_frequency=100, learning_rate=3e-3}",
    "training.total_steps=200",
    "instruments.covariance.every=0",
    "instruments.hessian.every=0",
]


@pytest.mark.timeout(900)
def test_switching_tasks_write_the_same_numbers_alone_and_inside_a_population(tmp_path):
    torch.set_num_threads(1)
    together, _ = run_to_folder([*SWITCHING, "training.population='on'"], tmp_path / "on")
    alone, _ = run_to_folder([*SWITCHING, "training.population='off'"], tmp_path / "off")
    written = numbers(together)
    assert written == numbers(alone)
    # every series is marked at the start and at each switch, nowhere else
    marks = sorted({(s, step, v) for s, step, t, v in written if t == "task/index" and s == "sparse/fast/td"})
    assert marks == [("sparse/fast/td", 0, 0.0), ("sparse/fast/td", 70, 1.0), ("sparse/fast/td", 140, 2.0)]


@pytest.mark.timeout(900)
def test_a_switching_population_resumed_mid_task_equals_uninterrupted(tmp_path):
    # checkpoint at 100 (inside task 2, after the switch at 80), a switch at 120 after the resume
    overrides = [*BLOCK_MDP, "env.switch_every=40", "env.rewards=['class_aligned', 'sparse']", "training.population='on'"]
    whole, resumed, saved = run_twice(tmp_path, TINY.name, overrides, stop_step=110)
    assert saved["step"] == 100
    assert [c["env"]["steps_taken"] for c in saved["runner"]["combinations"]] == [100, 100]
    assert_same_run(resumed, whole)
    marks = sorted({r["step"] for r in read_jsonl(resumed / layout.METRICS) if r["tag"] == "task/index"})
    assert marks == [0, 40, 80, 120]
