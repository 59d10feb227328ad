"""A DQN agent trains inside a population as it trains alone.

Three agents with different seeds, reward variants and learning rates train as one population;
each is compared with a ``DQN`` of its seed run alone through ``run_dqn``: the same environment
stream (latent states, images shown), the same actions, the same TD losses (the CPU promise is
bit for bit; the issue asks for 1e-5) and the same final networks, Brownian copies included.
"""

from __future__ import annotations

import pytest
import torch

from plastilab.agents.dqn import DQN, run_dqn, td_loss
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.dqn_population import DQNPopulation, compatible, td_losses
from plastilab.agents.run_dqn_population import run_dqn_population
from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import BlockMDP
from plastilab.envs.block_mdp_batch import BlockMDPBatch

AGENTS = [(0, "class_aligned", 1e-3), (1, "image_random", 5e-4), (2, "sparse", 2e-3)]  # seed, reward, lr


@pytest.fixture(scope="module")
def data():
    return load_images("mnist-5k", 1000, seed=0)


def env(data, seed, reward):
    images, labels = data
    return BlockMDP(images, labels, reward=reward, n_actions=4, episode_length=50, seed=seed)


def train_alone_and_together(data, steps, brownian, **shared):
    config = lambda lr: DQNConfig(learning_rate=lr, **shared)  # noqa: E731
    alone = []
    for seed, reward, lr in AGENTS:
        e = env(data, seed, reward)
        agent = DQN(config(lr), e.observation_shape, e.n_actions, seed=seed, brownian=brownian)
        losses = [float(s.td_loss) if s.td_loss is not None else None for s in run_dqn(e, agent, steps, seed=seed)]
        alone.append((agent, losses))
    seeds = [seed for seed, _, _ in AGENTS]
    envs = BlockMDPBatch([env(data, seed, reward) for seed, reward, _ in AGENTS])
    pop = DQNPopulation([config(lr) for _, _, lr in AGENTS], data[0], 4, seeds=seeds, brownian=brownian)
    together = [[] for _ in AGENTS]
    for records in run_dqn_population(envs, pop, steps, seeds):
        for n, record in enumerate(records):
            together[n].append(float(record.td_loss) if record.td_loss is not None else None)
    return alone, pop, together


def assert_same_agents(data, alone, pop, together, n_trained):
    images = data[0]
    for n, (agent, losses) in enumerate(alone):
        rb, k = agent.replay_buffer, agent.replay_buffer.size
        assert k == pop.replay.size
        assert torch.equal(rb.actions[:k], pop.replay.actions[n, :k].long())  # the same actions...
        assert torch.equal(rb.latent_states[:k], pop.replay.latent_states[n, :k].long())  # ...in the same states
        assert torch.equal(rb.rewards[:k], pop.replay.rewards[n, :k])
        assert torch.equal(rb._decode(rb.observations[:k]), images[pop.replay.observations[n, :k].long()])  # ...shown the same images
        assert torch.equal(rb._decode(rb.next_observations[:k]), images[pop.replay.next_observations[n, :k].long()])
        assert [x is None for x in losses] == [x is None for x in together[n]]
        trained = [(a, b) for a, b in zip(losses, together[n]) if a is not None]
        assert len(trained) == n_trained
        assert max(abs(a - b) for a, b in trained) <= 1e-5
        for mine, theirs in zip(agent.q_network.parameters(), pop.online.models[n].parameters()):
            assert torch.allclose(mine, theirs, rtol=0, atol=1e-6)
        if agent.brownian is not None:
            for mine, theirs in zip(agent.brownian.network.parameters(), pop.brownian.network(n).parameters()):
                assert torch.allclose(mine, theirs, rtol=0, atol=1e-6)


@pytest.mark.timeout(900)
def test_each_agent_of_a_population_trains_as_it_trains_alone_for_2000_steps(data):
    torch.set_num_threads(1)  # the same thread count alone and together (it is the CPU's gemm blocking)
    alone, pop, together = train_alone_and_together(
        data, 2000, brownian=True, hidden=[64, 64], learning_starts=100, batch_size=32, buffer_size=5000,
        target_network_frequency=200, loss="huber", gamma=0.9,
    )
    assert_same_agents(data, alone, pop, together, n_trained=1900)


@pytest.mark.timeout(600)
def test_rmsprop_double_dqn_and_mse_agents_train_as_they_train_alone(data):
    torch.set_num_threads(1)
    alone, pop, together = train_alone_and_together(
        data, 400, brownian=False, hidden=[32], optimizer="rmsprop", loss="mse", double_dqn=True,
        learning_starts=50, batch_size=16, buffer_size=300, target_network_frequency=60, train_frequency=2,
    )  # buffer_size < steps: the ring wraps
    assert_same_agents(data, alone, pop, together, n_trained=175)  # every 2nd step of 51..400


@pytest.mark.parametrize("double", [False, True])
def test_batched_targets_and_losses_are_each_agents_own(data, double):
    images = data[0]
    configs = [DQNConfig(hidden=[16], double_dqn=double, gamma=g) for g in (0.9, 0.9, 0.9)]
    pop = DQNPopulation(configs, images, 4, seeds=[3, 4, 5])
    alone = [DQN(c, images.shape[1:], 4, seed=s) for c, s in zip(configs, (3, 4, 5))]
    for agent in alone + [pop]:  # make online and target disagree, the same way for each agent
        targets = [a.target_network for a in alone] if agent is pop else [agent.target_network]
        for t in targets:
            torch.nn.init.normal_(t.head.weight, generator=torch.Generator().manual_seed(9))
    pop.target.flat.copy_(torch.stack([torch.cat([p.detach().flatten() for p in a.target_network.parameters()]) for a in alone]))
    x = images[torch.randint(len(images), (3, 32), generator=torch.Generator().manual_seed(0))]
    r, d = torch.rand(3, 32), (torch.rand(3, 32) < 0.3).float()
    got = pop.td_targets(r, x, d)
    q = pop.q_values(x)[..., 0]
    for kind in ("huber", "mse"):
        losses = td_losses(q, got, kind)
        for n, agent in enumerate(alone):
            want = agent.td_targets(r[n], x[n], d[n])
            assert torch.equal(got[n], want)
            assert torch.equal(losses[n], td_loss(agent.q_network(x[n])[:, 0], want, kind))
    pop.refresh_targets()  # the target stack becomes the online stack, agent by agent
    for n in range(3):
        assert all(torch.equal(a, b) for a, b in zip(pop.target.models[n].parameters(), pop.online.models[n].parameters()))


def test_agents_differing_beyond_hyperparameters_do_not_share_a_population():
    assert compatible([DQNConfig(learning_rate=1e-3, start_e=1.0), DQNConfig(learning_rate=1e-4, end_e=0.1)])
    assert not compatible([DQNConfig(hidden=[64]), DQNConfig(hidden=[32])])
    assert not compatible([DQNConfig(optimizer="adam"), DQNConfig(optimizer="rmsprop")])
    with pytest.raises(ValueError, match="may differ only in"):
        DQNPopulation([DQNConfig(batch_size=8), DQNConfig(batch_size=16)], torch.zeros(4, 1, 2, 2), 2, seeds=[0, 1])


@pytest.mark.parametrize("torso", [{"torso": "cnn", "channels": [8, 8]}, {"layer_norm": True}], ids=["cnn", "layer_norm"])
def test_networks_without_the_direct_form_train_as_alone_up_to_rounding(data, torso):
    # vmap over functional_call: the same computation, float rounding of batched kernels aside
    torch.set_num_threads(1)
    alone, pop, together = train_alone_and_together(
        data, 120, brownian=True, hidden=[32], learning_starts=20, batch_size=8, buffer_size=200, target_network_frequency=50, **torso,
    )
    for n, (agent, losses) in enumerate(alone):
        assert torch.equal(agent.replay_buffer.actions[:120], pop.replay.actions[n, :120].long())
        assert max(abs(a - b) for a, b in zip(losses, together[n]) if a is not None) <= 1e-5


@pytest.mark.timeout(600)
def test_agents_with_fused_adam_train_as_they_train_alone_with_it(data):
    # torch's fused Adam kernel, alone and on the stack: the same floats again (another rounding
    # than the default Adam's, so another trajectory than without it)
    torch.set_num_threads(1)
    alone, pop, together = train_alone_and_together(
        data, 400, brownian=False, hidden=[64, 64], fused_adam=True, learning_starts=50, batch_size=16, buffer_size=1000, target_network_frequency=100,
    )
    assert_same_agents(data, alone, pop, together, n_trained=350)
    assert DQNConfig(fused_adam=True).fused_adam
    with pytest.raises(ValueError, match="fused_adam"):
        DQNConfig(optimizer="rmsprop", fused_adam=True)
