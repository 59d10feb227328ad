"""DQN on the block MDP: the schedule, the target network's period, the Brownian copy, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plastilab.agents.dqn import DQN, linear_schedule, run_dqn, td_loss_fn
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.replay_buffer import ReplayBuffer
from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import BlockMDP


@pytest.fixture(scope="module")
def data():
    return load_images("mnist-5k", 1000, seed=0)


def test_linear_schedule():
    assert linear_schedule(1.0, 0.1, 100, 0) == 1.0
    assert linear_schedule(1.0, 0.1, 100, 50) == pytest.approx(0.55)
    assert linear_schedule(1.0, 0.1, 100, 100) == pytest.approx(0.1)
    assert linear_schedule(1.0, 0.1, 100, 10_000) == pytest.approx(0.1)


def test_replay_buffer_stores_8_bit_images_losslessly(data):
    images, _ = data
    rb = ReplayBuffer(4, images.shape[1:], generator=torch.Generator().manual_seed(0))
    for i in range(6):  # wraps around: the oldest two are overwritten
        rb.add(images[i], images[i + 1], i % 3, float(i), False, i)
    assert len(rb) == 4
    batch = rb.sample(16)
    for obs, nxt, latent in zip(batch.observations, batch.next_observations, batch.latent_states):
        assert torch.equal(obs, images[latent]) and torch.equal(nxt, images[latent + 1])
    assert set(batch.latent_states.tolist()) <= {2, 3, 4, 5}


def test_target_network_changes_only_at_its_period(data):
    images, labels = data
    env = BlockMDP(images, labels, reward="class_aligned", n_actions=4, episode_length=20, seed=0)
    config = DQNConfig(hidden=[32], learning_starts=10, target_network_frequency=25, batch_size=8, buffer_size=200)
    agent = DQN(config, env.observation_shape, env.n_actions, seed=0)
    previous = [p.clone() for p in agent.target_network.parameters()]
    changed_at, trained = [], 0
    for step in run_dqn(env, agent, 120):
        now = list(agent.target_network.parameters())
        if any(not torch.equal(a, b) for a, b in zip(previous, now)):
            changed_at.append(step.step)
            assert all(torch.equal(t, q) for t, q in zip(now, agent.q_network.parameters()))
        assert step.target_refreshed == (step.step > 10 and step.step % 25 == 0)
        trained += step.td_loss is not None
        previous = [p.clone() for p in now]
    assert changed_at == [25, 50, 75, 100]
    assert trained == 110  # steps 11..120


def test_brownian_copy_moves_by_exactly_the_norm_of_each_gradient_step(data):
    images, labels = data
    env = BlockMDP(images, labels, reward="image_random", n_actions=4, episode_length=20, seed=0)
    config = DQNConfig(hidden=[32, 32], layer_norm=True, learning_starts=5, batch_size=8, buffer_size=200)
    agent = DQN(config, env.observation_shape, env.n_actions, seed=0, brownian=True)
    brownian = agent.brownian.network
    assert all(torch.equal(a, b) for a, b in zip(brownian.parameters(), agent.q_network.parameters()))
    td_before = [p.detach().clone() for p in agent.q_network.parameters()]
    b_before = [p.detach().clone() for p in brownian.parameters()]
    steps = 0
    for step in run_dqn(env, agent, 40):
        td_now = [p.detach().clone() for p in agent.q_network.parameters()]
        b_now = [p.detach().clone() for p in brownian.parameters()]
        if step.td_loss is None:
            assert all(torch.equal(a, b) for a, b in zip(b_before, b_now))
        else:
            steps += 1
            td_step = [a - b for a, b in zip(td_now, td_before)]
            b_step = [a - b for a, b in zip(b_now, b_before)]
            for g, r in zip(td_step, b_step):  # tensor by tensor...
                assert torch.linalg.vector_norm(r).item() == pytest.approx(torch.linalg.vector_norm(g).item(), rel=1e-4)
            flat_g = torch.cat([g.flatten() for g in td_step])
            flat_r = torch.cat([r.flatten() for r in b_step])
            assert flat_r.norm().item() == pytest.approx(flat_g.norm().item(), rel=1e-4)  # ...and as a whole
            assert flat_g.norm() > 0
            cosine = torch.dot(flat_g, flat_r) / (flat_g.norm() * flat_r.norm())
            assert abs(cosine.item()) < 0.2  # a random direction, not the gradient's
        td_before, b_before = td_now, b_now
    assert steps == 35  # steps 6..40


def test_double_dqn_targets_bootstrap_from_the_online_networks_choice(data):
    images, labels = data
    env = BlockMDP(images, labels, reward="class_aligned", n_actions=4, seed=0)
    for double in (False, True):
        agent = DQN(DQNConfig(hidden=[16], double_dqn=double), env.observation_shape, 4, seed=0)
        torch.nn.init.normal_(agent.target_network.head.weight)  # make the two networks disagree
        x = images[:32]
        r, d = torch.rand(32), (torch.rand(32) < 0.3).float()
        got = agent.td_targets(r, x, d)
        with torch.no_grad():
            chooser = agent.q_network if double else agent.target_network
            a = chooser(x).argmax(1, keepdim=True)
            want = r + 0.99 * (1 - d) * agent.target_network(x).gather(1, a).squeeze(1)
        assert torch.allclose(got, want)


def test_td_loss_fn_takes_actions_and_targets():
    q = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    targets = (torch.tensor([1, 0]), torch.tensor([2.0, 1.0]))
    assert td_loss_fn("mse")(q, targets).item() == pytest.approx((0.0 + 4.0) / 2)
    assert td_loss_fn("huber")(q, targets).item() == pytest.approx((0.0 + 1.5) / 2)


def greedy_return(env: BlockMDP, agent: DQN, episodes: int, seed: int) -> float:
    total = 0.0
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        for _ in range(env.episode_length):
            with torch.no_grad():
                action = int(agent.q_network(obs.unsqueeze(0)).argmax())
            obs, reward, _, _, _ = env.step(action)
            total += reward
    return total / episodes


def test_dqn_reaches_near_the_optimal_return_on_the_class_aligned_variant(data):
    images, labels = data
    env = BlockMDP(images, labels, reward="class_aligned", n_actions=4, episode_length=50, seed=0)
    config = DQNConfig(
        hidden=[64], learning_rate=1e-3, learning_starts=200, batch_size=32, buffer_size=5000,
        target_network_frequency=200, gamma=0.5, exploration_fraction=0.3,
    )  # a short horizon keeps the value gap between actions large next to the bootstrap noise
    agent = DQN(config, env.observation_shape, env.n_actions, seed=0)
    returns = [s.episode_return for s in run_dqn(env, agent, 2500) if s.episode_return is not None]
    assert np.mean(returns[:2]) < 0.5 * env.optimal_return()  # it had to learn
    assert greedy_return(env, agent, episodes=5, seed=100) >= 0.9 * env.optimal_return()
