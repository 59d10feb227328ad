"""The vectorised block MDP and the replay of image indices against their one-agent forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from plastilab.agents.index_replay import IndexReplay
from plastilab.agents.replay_buffer import ReplayBuffer
from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import BlockMDP
from plastilab.envs.block_mdp_batch import BlockMDPBatch


@pytest.fixture(scope="module")
def data():
    return load_images("mnist-5k", 600, seed=0)


SPECS = [(0, "class_aligned"), (1, "image_random"), (2, "sparse"), (3, "image_random")]


def make(data, seed, reward):
    images, labels = data
    return BlockMDP(images, labels, reward=reward, n_actions=4, episode_length=30, seed=seed)


def test_each_environment_of_a_batch_steps_as_it_steps_alone(data):
    alone = [make(data, s, r) for s, r in SPECS]
    batch = BlockMDPBatch([make(data, s, r) for s, r in SPECS])
    shown = [env.reset(seed=s)[1]["image_index"] for env, (s, _) in zip(alone, SPECS)]
    assert batch.reset([s for s, _ in SPECS])[0].tolist() == shown
    rng = np.random.default_rng(0)
    rewarded = np.zeros(len(SPECS))
    for _ in range(200):  # several episodes: the resets draw from each stream as a lone reset does
        actions = rng.integers(4, size=len(SPECS))
        rewards, truncated, shown = batch.step(actions)
        for n, env in enumerate(alone):
            _, reward, _, cut, info = env.step(int(actions[n]))
            assert (reward, cut, info["image_index"], info["latent_state"]) == (rewards[n], truncated[n], shown[n], batch.latent_state[n])
            if cut:
                env.reset()
        batch.reset_where(truncated)
        rewarded += rewards
    assert (rewarded > 0).all()  # every variant's table was looked up, not one agent's for all
    # a checkpoint holds per agent what a lone environment's holds, and puts it back
    saved = batch.state_dict()
    assert saved == [env.state_dict() for env in alone]
    again = BlockMDPBatch([make(data, s, r) for s, r in SPECS])
    again.load_state_dict(saved)
    actions = rng.integers(4, size=len(SPECS))
    assert [x.tolist() for x in again.step(actions)] == [x.tolist() for x in batch.step(actions)]


def test_a_batch_refuses_actions_out_of_range(data):
    batch = BlockMDPBatch([make(data, 0, "sparse")])
    batch.reset([0])
    with pytest.raises(ValueError, match="0..3"):
        batch.step(np.array([4]))


def test_replay_of_indices_samples_the_pixels_the_pixel_buffer_samples_in_a_fiftieth_of_the_bytes(data):
    images, _ = data
    capacity, n_agents = 20_000, 3
    pixels = ReplayBuffer(capacity, images.shape[1:], generator=torch.Generator().manual_seed(5))
    indices = IndexReplay(n_agents, capacity, images, [torch.Generator().manual_seed(s) for s in (4, 5, 6)])
    rng = np.random.default_rng(1)
    for _ in range(500):
        obs, nxt = rng.integers(len(images), size=(2, n_agents))
        action, reward = rng.integers(4, size=n_agents), rng.random(n_agents).astype(np.float32)
        pixels.add(images[obs[1]], images[nxt[1]], int(action[1]), float(reward[1]), False, int(obs[1]) % 10)
        indices.add(obs, nxt, action, reward, np.zeros(n_agents, dtype=bool), obs % 10)
    want, got = pixels.sample(64), indices.sample(64)
    for field in want._fields:  # agent 1 of the stack draws from the pixel buffer's stream
        assert torch.equal(getattr(want, field), getattr(got, field)[1]), field
    one = indices.sample_agent(1, 64, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(one, pixels.sample(64, generator=torch.Generator().manual_seed(5))))
    pixel_bytes = sum(t.element_size() * t.numel() for t in
                      (pixels.observations, pixels.next_observations, pixels.actions, pixels.rewards, pixels.dones, pixels.latent_states))
    assert indices.nbytes_per_agent() * 50 <= pixel_bytes  # 21 bytes a transition against 1,592
    assert indices.nbytes_per_agent() == 21 * capacity


def test_agents_over_different_image_sets_see_their_own_images(data):
    images, labels = data
    other_images, other_labels = load_images("mnist-5k", 400, seed=1)  # another seed's set
    alone = [make(data, 0, "image_random"), BlockMDP(other_images, other_labels, reward="image_random", n_actions=4, episode_length=30, seed=1)]
    batch = BlockMDPBatch([make(data, 0, "image_random"), BlockMDP(other_images, other_labels, reward="image_random", n_actions=4, episode_length=30, seed=1)])
    assert batch.images.shape[0] == len(images) + len(other_images)
    shown = batch.reset([0, 1])[0]
    lone = [env.reset(seed=s)[0] for env, s in zip(alone, (0, 1))]
    rng = np.random.default_rng(2)
    for _ in range(60):
        assert all(torch.equal(batch.images[i], obs) for i, obs in zip(shown, lone))
        actions = rng.integers(4, size=2)
        rewards, truncated, shown = batch.step(actions)
        steps = [env.step(int(a)) for env, a in zip(alone, actions)]
        assert rewards.tolist() == [s[1] for s in steps]
        lone = [s[0] for s in steps]
        for n, env in enumerate(alone):
            if truncated[n]:
                lone[n] = env.reset()[0]
        batch.reset_where(truncated)
        shown = batch.shown()


def test_switching_environments_step_alone_and_in_a_batch_alike_and_resume_on_schedule(data):
    """Continual RL: each agent's tables are redrawn on its schedule, in a batch as alone, and
    a checkpoint taken mid-task puts the task's tables back."""
    specs = [(0, "class_aligned", 40), (1, "sparse", 40), (2, "image_random", 0), (3, "class_aligned", 25)]

    def switching(seed, reward, every):
        images, labels = data
        return BlockMDP(images, labels, reward=reward, n_actions=4, episode_length=30, seed=seed, switch_every=every)

    alone = [switching(*spec) for spec in specs]
    batch = BlockMDPBatch([switching(*spec) for spec in specs])
    for env, (s, _, _) in zip(alone, specs):
        env.reset(seed=s)
    batch.reset([s for s, _, _ in specs])
    rng = np.random.default_rng(0)
    for step in range(1, 131):
        actions = rng.integers(4, size=len(specs))
        rewards, truncated, shown = batch.step(actions)
        for n, env in enumerate(alone):
            _, reward, _, cut, info = env.step(int(actions[n]))
            assert (reward, cut, info["image_index"]) == (rewards[n], truncated[n], shown[n])
            if cut:
                env.reset()
        batch.reset_where(truncated)
        if step == 70:
            saved = batch.state_dict()
    assert [env.task for env in alone] == [3, 3, 0, 5]
    assert [env.task for env in batch.envs] == [3, 3, 0, 5]
    again = BlockMDPBatch([switching(*spec) for spec in specs])
    again.load_state_dict(saved)
    assert [env.task for env in again.envs] == [1, 1, 0, 2]  # 70 steps in: the task then in force
    lone = switching(*specs[0])
    lone.load_state_dict(saved[0])
    assert np.array_equal(lone.reward_table, again.envs[0].reward_table)


def test_a_switch_redraws_the_tables_the_same_for_every_agent_of_a_seed(data):
    images, labels = data
    a = BlockMDP(images, labels, n_actions=4, seed=5, switch_every=10)
    b = BlockMDP(images, labels, n_actions=4, seed=5, switch_every=10)
    never = BlockMDP(images, labels, n_actions=4, seed=5)
    first = a.transitions.copy(), a.reward_table.copy()
    assert np.array_equal(first[0], never.transitions)  # task 0 is the seed's own MDP
    for env in (a, b):
        env.reset(seed=0)
        for _ in range(11):
            env.step(0)
    assert a.task == b.task == 1
    assert np.array_equal(a.transitions, b.transitions) and np.array_equal(a.reward_table, b.reward_table)
    assert not (np.array_equal(a.transitions, first[0]) and np.array_equal(a.reward_table, first[1]))
