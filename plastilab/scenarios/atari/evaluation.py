"""Evaluation episodes and the fixed frames the instruments look at, for the Atari scenario."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from plastilab.envs.atari import AtariEnv


@torch.no_grad()
def evaluate(env: AtariEnv, q_network: nn.Module, episodes: int, epsilon: float, *, seed: int) -> list[float]:
    """The unclipped return of each of ``episodes`` episodes played ε-greedily (fixed ε).

    The first episode is reset with ``seed`` (the game's and the sticky actions' randomness), the
    others continue that stream; exploration draws from its own generator, so evaluating never
    moves the training streams.
    """
    rng = np.random.default_rng([seed, 0xEA])
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                action = int(rng.integers(env.n_actions))
            else:
                action = int(q_network(obs.unsqueeze(0)).argmax(dim=1).item())
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        returns.append(float(env.last_episode_return))
    return returns


def random_policy_frames(game: str, n: int, *, seed: int, every: int = 4, **options) -> torch.Tensor:
    """``n`` observations (n, 4, 84, 84) in [0, 1] that a uniformly random policy meets, one every
    ``every`` steps: a fixed input set for the probe and the unit statistics, so their curves
    compare the same states over training. Its own game instance, seeded, never the training one."""
    env = AtariEnv(game, clip_rewards=False, **options)
    rng = np.random.default_rng([seed, 0xF])
    frames = []
    obs, _ = env.reset(seed=seed)
    step = 0
    while len(frames) < n:
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.n_actions)))
        step += 1
        if step % every == 0:
            frames.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return torch.stack(frames)
