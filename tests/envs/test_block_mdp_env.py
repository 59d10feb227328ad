"""The block MDP: its tables, its observation sampling, and its Gymnasium-style interface."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import REWARD_VARIANTS, BlockMDP


@pytest.fixture(scope="module")
def data():
    return load_images("mnist-5k", 600, seed=0)


def make(data, reward, **kw):
    images, labels = data
    return BlockMDP(images, labels, reward=reward, seed=kw.pop("seed", 3), **kw)


@pytest.mark.parametrize("reward", REWARD_VARIANTS)
def test_tables_are_fixed_by_the_seed(data, reward):
    a, b, c = make(data, reward, seed=1), make(data, reward, seed=1), make(data, reward, seed=2)
    assert np.array_equal(a.transitions, b.transitions) and np.array_equal(a.reward_table, b.reward_table)
    assert not (np.array_equal(a.transitions, c.transitions) and np.array_equal(a.reward_table, c.reward_table))
    assert a.transitions.shape == (a.n_states, a.n_actions)
    assert a.transitions.min() >= 0 and a.transitions.max() < a.n_states


def test_class_aligned_rewards_one_action_per_class(data):
    env = make(data, "class_aligned", n_actions=4)
    assert env.n_states == 10 and env.reward_table.shape == (10, 4)
    assert np.array_equal(env.reward_table.sum(axis=1), np.ones(10))
    assert np.array_equal(env.reward_table.argmax(axis=1), env.rewarded_action)


def test_image_random_rewards_depend_on_the_image_not_its_class(data):
    env = make(data, "image_random")
    images, labels = data
    assert env.reward_table.shape == (len(labels), env.n_actions)
    assert np.array_equal(env.reward_table.sum(axis=1), np.ones(len(labels)))
    # within one class the rewarded action varies from image to image: a class says nothing
    for s in range(env.n_states):
        assert len(set(env.rewarded_action[env.class_images[s]].tolist())) > 1


def test_step_follows_the_tables_and_observes_an_image_of_the_next_class(data):
    images, labels = data
    for reward in REWARD_VARIANTS:
        env = make(data, reward, n_actions=5)
        obs, info = env.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(200):
            s, i = info["latent_state"], info["image_index"]
            assert labels[i] == s and torch.equal(obs, images[i])
            a = int(rng.integers(env.n_actions))
            row = i if reward == "image_random" else s
            obs, r, terminated, truncated, info = env.step(a)
            assert r == env.reward_table[row, a]
            assert info["latent_state"] == env.transitions[s, a]
            assert not terminated
            if truncated:
                obs, info = env.reset()


def test_sparse_is_a_chain_that_pays_only_on_reaching_the_goal(data):
    env = make(data, "sparse", n_actions=4)
    _, info = env.reset(seed=0)
    assert info["latent_state"] == env.chain[0]
    rewards = []
    for p in range(env.n_states - 1):
        s = info["latent_state"]
        wrong = (env.rewarded_action[s] + 1) % env.n_actions
        _, r, _, _, info = env.step(wrong)  # a wrong action stays put and pays nothing
        assert info["latent_state"] == s and r == 0.0
        _, r, _, _, info = env.step(env.rewarded_action[s])
        assert info["latent_state"] == env.chain[p + 1]
        rewards.append(r)
    assert rewards == [0.0] * (env.n_states - 2) + [1.0]
    assert info["latent_state"] == env.goal
    _, r, _, _, info = env.step(0)  # from the goal every action returns to the start
    assert info["latent_state"] == env.chain[0] and r == 0.0


def test_optimal_and_random_returns(data):
    env = make(data, "sparse", n_actions=4, episode_length=100)
    # the best policy walks the chain (K - 1 steps), collects, and steps back to the start: K steps a reward
    assert env.optimal_return() == pytest.approx(100 // env.n_states)
    assert 0 < env.random_return() < env.optimal_return()
    aligned = make(data, "class_aligned", n_actions=4, episode_length=50)
    assert aligned.optimal_return() == 50 and aligned.random_return() == pytest.approx(12.5)
    # a Monte Carlo check of the random return on the sparse chain
    rng = np.random.default_rng(1)
    total, episodes = 0.0, 300
    for e in range(episodes):
        env.reset(seed=e)
        for _ in range(env.episode_length):
            total += env.step(int(rng.integers(env.n_actions)))[1]
    assert total / episodes == pytest.approx(env.random_return(), rel=0.15)


def test_episodes_are_truncated_at_their_length(data):
    env = make(data, "class_aligned", episode_length=7)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(7)]
    assert flags == [False] * 6 + [True]


def test_observations_are_uniform_over_the_class_images_and_reproducible(data):
    env = make(data, "class_aligned", n_actions=2)
    s = 0
    env.transitions[:] = s  # pin the latent state to class 0 to count its images
    env.reset(seed=5)
    seen = [env.step(0)[4]["image_index"] for _ in range(3000)]
    counts = np.bincount(seen, minlength=len(data[1]))[env.class_images[s]]
    assert (counts > 0).all()  # every image of the class shows up
    assert counts.std() / counts.mean() < 0.5
    env.reset(seed=5)
    again = [env.step(0)[4]["image_index"] for _ in range(3000)]
    assert again == seen
