"""Interventions inside a DQN agent: the validation lines, each method taking effect on the online
Q-network inside ``run_dqn``, the optimiser stepping exactly the trainable parameters after every
edit, and a seed training the same alone and inside a population with the stackable ones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from plastilab.agents.dqn import DQN, run_dqn
from plastilab.agents.dqn_config import DQNConfig
from plastilab.core.scenario_file import ScenarioError, load_scenario
from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import BlockMDP
from plastilab.interventions.optimizer_state import state_tensors
from plastilab.interventions.plasticity_injection import InjectedHead
from block_mdp_helpers import TINY, numbers, run_to_folder

SMALL = dict(hidden=[32, 32], learning_starts=20, batch_size=16, buffer_size=500, target_network_frequency=50)


@pytest.fixture(scope="module")
def env_data():
    return load_images("mnist-5k", 300, seed=0)


def make(env_data, interventions, settings=None, seed=0, **extra):
    images, labels = env_data
    env = BlockMDP(images, labels, reward="class_aligned", n_actions=4, episode_length=50, seed=seed)
    config = DQNConfig(**{**SMALL, **extra}, interventions=interventions, intervention_settings=settings or {})
    return env, DQN(config, env.observation_shape, env.n_actions, seed=seed)


def optimised(agent) -> set[int]:
    return {id(p) for g in agent.optimizer.param_groups for p in g["params"]}


def trainable(agent) -> set[int]:
    return {id(p) for p in agent.q_network.parameters() if p.requires_grad}


# -- validation: one line naming the key, what was found and what is allowed ---------------------


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("agents.mlp.interventions=['redoo']", "agents.mlp.interventions.0: found 'redoo'; allowed: one of shrink_and_perturb"),
        ("agents.mlp.interventions=['reset_last_layer']", "use layer_reset (last_layers = 1) with every_steps"),
        ("agents.mlp.interventions=['shrink_and_perturb']", "intervention_settings.shrink_and_perturb.every_steps > 0"),
        ("agents.mlp.interventions=['plasticity_injection']", "intervention_settings.plasticity_injection.at_step > 0"),
        ("agents.mlp.interventions=['nap']", "nap with layer_norm = true"),
        ("agents.mlp.interventions=['layer_norm']", "set layer_norm = true"),
        ("agents.mlp.interventions=['redo', 'redo']", "each intervention once"),
        ("agents.mlp.intervention_settings.redo.tau=0.1", "agents.mlp.intervention_settings.redo.tau: unknown key"),
    ],
)
def test_bad_interventions_are_one_line(override, words):
    with pytest.raises(ScenarioError) as error:
        load_scenario(TINY, [override])
    message = str(error.value)
    assert "\n" not in message and words in message and "block-mdp-tiny.toml" in message


def test_the_anchors_redo_schedules_are_settings_and_atari_agents_take_interventions_too():
    dopamine = DQNConfig(interventions=["redo"]).intervention_settings.redo
    assert (dopamine.threshold, dopamine.every_steps, dopamine.n_examples, dopamine.bias) == (0.1, 1000, 256, "zero")
    plasticine = {"threshold": 0.025, "every_steps": 10_000, "n_examples": 2048}
    DQNConfig(interventions=["redo"], intervention_settings={"redo": plasticine})
    atari = Path(__file__).resolve().parents[2] / "scenarios" / "atari-tiny.toml"
    load_scenario(atari, ["agents.dqn.interventions=['redo', 'c_chain']"])
    with pytest.raises(ScenarioError, match="agents.dqn.interventions.0: found 'reset_optimizer'"):
        load_scenario(atari, ["agents.dqn.interventions=['reset_optimizer']"])


def test_a_population_that_cannot_apply_an_intervention_is_refused_in_one_line():
    with pytest.raises(ScenarioError) as error:
        load_scenario(TINY, ["agents.mlp.interventions=['redo']", "training.population='on'"])
    message = str(error.value)
    assert "\n" not in message and "training.population: found 'on'" in message and "uses redo" in message
    # the stackable ones pass, and "auto" passes with anything
    load_scenario(TINY, ["agents.mlp.interventions=['weight_decay']", "training.population='on'"])
    load_scenario(TINY, ["agents.mlp.interventions=['redo']", "training.population='auto'"])


# -- each method takes effect inside run_dqn -------------------------------------------------------


def test_redo_recycles_dormant_units_of_the_q_network(env_data):
    env, agent = make(env_data, ["redo"], {"redo": {"every_steps": 40, "threshold": 0.0}})
    fc1 = agent.q_network.body.fc1
    with torch.no_grad():  # silence 5 units of the first layer: dormant on every input
        fc1.weight[:5] = 0
        fc1.bias[:5] = -1.0
    updated = copy.deepcopy(agent.q_network)  # becomes the network just after step 40's update, before ReDo acts
    agent.optimizer.register_step_post_hook(lambda opt, *a: updated.load_state_dict(agent.q_network.state_dict()))
    recycled = {}
    for record in run_dqn(env, agent, 40):
        if record.interventions:
            recycled = record.interventions
    assert recycled["redo/recycled_units"] >= 5
    # on the replay states ReDo scored (its stream: seed + 4), the recycled units were silent and
    # their fresh successors are muted: the function is unchanged
    x = agent.replay_buffer.sample(256, generator=torch.Generator().manual_seed(0 + 4)).observations
    assert torch.allclose(agent.q_network(x), updated(x), atol=1e-6)
    assert (fc1.weight[:5].abs().sum(dim=1) > 0).all() and (fc1.bias[:5] == 0).all()  # fresh rows, dopamine's zero bias
    assert (agent.q_network.body.fc2.weight[:, :5] == 0).all()  # outgoing columns zeroed
    for m in state_tensors(agent.optimizer, agent.q_network.body.fc2.weight):
        assert (m[:, :5] == 0).all()  # their Adam moments with them


def test_shrink_and_perturb_moves_the_weights_by_its_equation(env_data):
    settings = {"shrink_and_perturb": {"every_steps": 30, "shrink": 0.5, "noise_std": 0.1}}
    env, agent = make(env_data, ["shrink_and_perturb"], settings, seed=3)
    twin_env, twin = make(env_data, [], seed=3)
    loop, twin_loop = run_dqn(env, agent, 30), run_dqn(twin_env, twin, 30)
    for _ in range(29):
        next(loop), next(twin_loop)
    next(loop), next(twin_loop)  # step 30: both take the same update, then one shrinks and perturbs
    noise = torch.Generator().manual_seed(3 + 3)  # the plan's stream: seed + 3
    for p, q in zip(agent.q_network.parameters(), twin.q_network.parameters()):
        expected = 0.5 * q + 0.1 * torch.randn(q.shape, generator=noise)
        assert torch.allclose(p, expected, atol=1e-6)


def test_l2_init_penalty_pulls_toward_the_initial_weights(env_data):
    env, agent = make(env_data, ["l2_init"], {"l2_init": {"coefficient": 1.0}}, seed=1)
    _, plain = make(env_data, [], seed=1)
    initial = [p.detach().clone() for p in agent.q_network.parameters()]
    for _ in run_dqn(env, agent, 120):
        pass
    for _ in run_dqn(BlockMDP(*env_data, reward="class_aligned", n_actions=4, episode_length=50, seed=1), plain, 120):
        pass
    drift = sum(float((p.detach() - p0).square().sum()) for p, p0 in zip(agent.q_network.parameters(), initial))
    plain_drift = sum(float((p.detach() - p0).square().sum()) for p, p0 in zip(plain.q_network.parameters(), initial))
    assert drift < 0.5 * plain_drift


def test_layer_and_full_resets_leave_the_optimiser_stepping_exactly_the_trainable_parameters(env_data):
    for names, settings in (
        (["layer_reset"], {"layer_reset": {"every_steps": 30, "last_layers": 2}}),
        (["full_reset"], {"full_reset": {"every_steps": 30}}),
    ):
        env, agent = make(env_data, names, settings)
        loop = run_dqn(env, agent, 100)  # resets at 30, 60, 90; the target refreshed at 50 and 100
        for _ in range(29):
            next(loop)
        head_before = agent.q_network.head.weight.detach().clone()
        next(loop)  # step 30: an update, then the reset
        assert not torch.equal(agent.q_network.head.weight, head_before)
        assert optimised(agent) == trainable(agent)
        assert all(not state_tensors(agent.optimizer, p) for p in agent.q_network.head.parameters())
        for _ in loop:  # it trains on, the target network refreshing from the reset network
            pass
        assert torch.equal(agent.target_network.head.weight, agent.q_network.head.weight)


def test_plasticity_injection_at_a_step_keeps_the_function_and_trains_the_fresh_head(env_data):
    env, agent = make(env_data, ["plasticity_injection"], {"plasticity_injection": {"at_step": 40}})
    loop = run_dqn(env, agent, 100)
    for _ in range(39):
        next(loop)
    x = agent.replay_buffer.sample(32, generator=torch.Generator().manual_seed(0)).observations
    # step 40's update, then the injection: compare with the network just after the update
    updated = {}
    hook = agent.optimizer.register_step_post_hook(lambda opt, *a: updated.setdefault("q", agent.q_network(x).detach()))
    next(loop)
    hook.remove()
    assert isinstance(agent.q_network.head, InjectedHead) and isinstance(agent.target_network.head, InjectedHead)
    assert torch.allclose(agent.q_network(x), updated["q"], atol=1e-6)
    assert optimised(agent) == trainable(agent)
    fresh = agent.q_network.head.fresh.weight.detach().clone()
    for _ in loop:
        pass
    assert not torch.equal(agent.q_network.head.fresh.weight, fresh)  # the fresh head learns
    assert torch.equal(agent.target_network.head.fresh.weight, agent.q_network.head.fresh.weight)  # refreshed at 100


def test_every_intervention_a_dqn_takes_runs_with_the_optimiser_matching_the_trainable_set(env_data):
    lists = [
        (["weight_decay"], {}), (["weight_decay"], {"weight_decay": {"coupled": True, "weight_decay": 1e-3}}),
        (["spectral_norm"], {}), (["continual_backprop"], {"continual_backprop": {"replacement_rate": 0.05, "maturity": 5}}),
        (["regrama"], {"regrama": {"every_steps": 10}}), (["trac"], {}), (["parseval"], {}),
        (["c_chain"], {"c_chain": {"warmup_updates": 10, "window": 20}}),
        (["nap"], {}), (["redo", "shrink_and_perturb", "l2_init"], {"shrink_and_perturb": {"every_steps": 25}}),
    ]
    for names, settings in lists:
        env, agent = make(env_data, names, settings, layer_norm=names == ["nap"])
        losses = [float(r.td_loss) for r in run_dqn(env, agent, 80) if r.td_loss is not None]
        assert losses and all(torch.isfinite(torch.tensor(losses))), names
        assert optimised(agent) == trainable(agent), names


def test_a_dqn_with_interventions_resumes_from_its_checkpoint_as_it_would_have_gone_on(env_data):
    settings = {"plasticity_injection": {"at_step": 30}, "c_chain": {"warmup_updates": 5, "window": 10}}
    names = ["plasticity_injection", "c_chain", "shrink_and_perturb"]
    settings["shrink_and_perturb"] = {"every_steps": 20}
    env, agent = make(env_data, names, settings)
    loop = run_dqn(env, agent, 80)
    for _ in range(50):
        record = next(loop)
    saved, env_saved = copy.deepcopy(agent.state_dict()), copy.deepcopy(env.state_dict())
    rest = [float(r.td_loss) for r in loop if r.td_loss is not None]
    env2, again = make(env_data, names, settings)
    again.load_state_dict(saved)
    env2.load_state_dict(env_saved)
    resumed = [float(r.td_loss) for r in run_dqn(env2, again, 80, resume_after=(50, record.return_so_far)) if r.td_loss is not None]
    assert resumed == rest


# -- alone and inside a population -------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_a_seed_trains_the_same_alone_and_inside_a_population_with_the_stackable_interventions(tmp_path):
    torch.set_num_threads(1)
    overrides = [
        "agents.mlp.interventions=['shrink_and_perturb', 'weight_decay']",
        "agents.mlp.intervention_settings.shrink_and_perturb={every_steps=40, shrink=0.9, noise_std=0.01}",
        "agents.mlp.intervention_settings.weight_decay={weight_decay=0.5}",
        "training.total_steps=150", "training.brownian=false", "seeds=3",
        "instruments.hessian.every=0", "instruments.covariance.every=0",
    ]
    together, _ = run_to_folder([*overrides, "training.population='on'"], tmp_path / "on")
    alone, _ = run_to_folder([*overrides, "training.population='off'"], tmp_path / "off")
    written = sorted(numbers(together), key=lambda n: (n[0], n[1], n[2]))
    assert written == sorted(numbers(alone), key=lambda n: (n[0], n[1], n[2]))
    assert {s for s, _, _, _ in written} == {f"mlp/td/s{seed}" for seed in (0, 1, 2)}
    assert any(t == "td/loss" for _, _, t, _ in written)
    plain, _ = run_to_folder([*overrides[3:], "training.population='off'"], tmp_path / "plain")
    assert numbers(plain) != numbers(alone)  # the interventions did act


def test_auto_trains_an_agent_whose_intervention_a_population_cannot_apply_alone():
    from plastilab.agents.dqn_population import DQNPopulation
    from plastilab.scenarios.block_mdp.learners import trains_as_population

    assert not trains_as_population("auto", 32, "cpu", DQNConfig(interventions=["redo"]))
    assert trains_as_population("auto", 32, "cpu", DQNConfig(interventions=["weight_decay"]))
    coupled = DQNConfig(interventions=["weight_decay"], intervention_settings={"weight_decay": {"coupled": True}})
    assert not trains_as_population("auto", 32, "cpu", coupled)  # coupled weight decay is a loss term
    with pytest.raises(ValueError, match="a population cannot apply c_chain yet"):
        DQNPopulation([DQNConfig(interventions=["c_chain"], **SMALL)], torch.zeros(4, 1, 28, 28), 4, seeds=[0])


# -- continual RL: a task switch is a task change for the agents' interventions -----------------


def test_task_change_methods_are_refused_without_switches_and_name_the_way_to_switch():
    with pytest.raises(ScenarioError) as error:
        load_scenario(TINY, ["agents.mlp.interventions=['reset_optimizer']"])
    message = str(error.value)
    assert "\n" not in message and "agents.mlp.interventions.0: found 'reset_optimizer'" in message
    assert "env.switch_every > 0" in message
    config = load_scenario(TINY, ["agents.mlp.interventions=['reset_last_layer']", "env.switch_every=100"]).config
    assert config.agents["mlp"].interventions == ["reset_last_layer"]


def test_a_reset_at_a_task_change_redraws_the_q_networks_head(env_data):
    env, agent = make(env_data, ["reset_last_layer"])
    loop = run_dqn(env, agent, total_steps=60)
    for _ in range(60):
        next(loop)
    head = list(agent.q_network.parameters())[-2].detach().clone()
    body = list(agent.q_network.parameters())[0].detach().clone()
    agent.interventions.task_change(agent)
    assert not torch.equal(list(agent.q_network.parameters())[-2], head)
    assert torch.equal(list(agent.q_network.parameters())[0], body)
    assert optimised(agent) == trainable(agent)


def test_every_switch_of_a_continual_block_mdp_calls_the_agents_task_change(monkeypatch, tmp_path):
    from plastilab.agents.dqn_interventions import DQNInterventions

    calls = []
    original = DQNInterventions.task_change
    monkeypatch.setattr(DQNInterventions, "task_change", lambda self, agent: calls.append(1) or original(self, agent))
    overrides = ["agents.mlp.interventions=['reset_last_layer']", "env.switch_every=100", "training.brownian=false"]
    _, end = run_to_folder(overrides, tmp_path)
    assert end.__class__.__name__ == "RunFinished", end
    assert len(calls) == 2  # switches at steps 100 and 200 of 300
