"""N block MDPs stepped at once: one population of agents, one environment each.

Each agent keeps its own ``BlockMDP`` (its seed's tables and its reward variant: a population
may mix variants) and its own observation stream, so agent ``n`` sees exactly what a run of its
seed alone sees. What the agents share is vectorised: the latent states, clocks and image
indices live in ``[N]`` arrays, and the rewards and transitions of every agent are looked up
in one pass over the agents' tables concatenated end to end. The one per-agent call left is the
observation draw (``rng.integers`` on the agent's own stream), which is what keeps the streams
identical to the one-agent environment's.

Continual RL: an environment with ``switch_every`` redraws its tables on the steps its lone form
does (``BlockMDP._draw_tables``), and the batch copies that agent's new tables into its place in
the concatenated ones, so a switching agent still sees what it sees alone.

Observations are image *indices* into the shared image tensor: the learner gathers the pixels
when it needs them, so neither the environment nor the replay buffer copies an image. Agents of
different seeds see different image sets (a seed draws its own images); the batch then shows
them as one tensor, the sets end to end, and an agent's index is offset to its own set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plastilab.envs.block_mdp import BlockMDP


class BlockMDPBatch:
    """The environments ``envs`` (one per agent, each over its image set), stepped together.

    ``reset``/``step`` follow ``BlockMDP``'s draws exactly: the same calls on each agent's stream
    in the same order. The state (latent state, image shown, time in the episode) is kept here in
    arrays and written back to each ``BlockMDP`` after every call, so each environment's own
    ``state_dict`` is always that agent's, as a one-agent run's checkpoint holds it; after
    loading the environments' states, ``read_states`` takes them back into the arrays.
    """

    def __init__(self, envs: list[BlockMDP]) -> None:
        if not envs:
            raise ValueError("a batch needs at least one environment")
        first = envs[0]
        if any(env.n_actions != first.n_actions or env.observation_shape != first.observation_shape for env in envs):
            raise ValueError("every environment of a batch has the same actions and observation shape")
        self.envs = envs
        self.n = len(envs)
        self.n_actions = first.n_actions
        self.observation_shape = first.observation_shape
        sets: list[torch.Tensor] = []  # each distinct image tensor once, in first-seen order
        starts: list[int] = []
        offsets = []
        for env in envs:
            k = next((k for k, t in enumerate(sets) if t is env.images), None)
            if k is None:
                starts.append(starts[-1] + len(sets[-1]) if sets else 0)
                sets.append(env.images)
                k = len(sets) - 1
            offsets.append(starts[k])
        self.images = sets[0] if len(sets) == 1 else torch.cat(sets)
        self.image_offset = np.array(offsets, dtype=np.int64)  # agent n's image i is images[offset + i]
        self.episode_length = np.array([env.episode_length for env in envs], dtype=np.int64)
        # Every agent's tables end to end: one fancy index looks up all agents' rewards.
        sizes = [env.reward_table.size for env in envs]
        self._reward_offset = np.cumsum([0, *sizes[:-1]]).astype(np.int64)  # where each agent's table starts
        self._reward_flat = np.concatenate([env.reward_table.reshape(-1) for env in envs])
        self._by_image = np.array([env.reward_variant == "image_random" for env in envs])
        self._transition_offset = np.cumsum([0, *[env.transitions.size for env in envs[:-1]]]).astype(np.int64)
        self._transition_flat = np.concatenate([env.transitions.reshape(-1) for env in envs]).astype(np.int64)
        self._sparse = np.array([env.reward_variant == "sparse" for env in envs])
        self._start = np.array([int(env.chain[0]) if env.chain is not None else -1 for env in envs], dtype=np.int64)
        self.switch_every = np.array([env.switch_every for env in envs], dtype=np.int64)
        self.latent_state = np.zeros(self.n, dtype=np.int64)
        self.image_index = np.zeros(self.n, dtype=np.int64)
        self.t = np.zeros(self.n, dtype=np.int64)
        self.steps_taken = np.zeros(self.n, dtype=np.int64)  # over episodes: the switch schedule

    def reset(self, seeds: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every environment's ``reset(seed=seeds[n])``: (image indices, latent states), ``[N]`` each."""
        for n, env in enumerate(self.envs):
            if seeds is not None:
                env._rng = np.random.default_rng([seeds[n], 0x0B5])
        self.reset_where(np.ones(self.n, dtype=bool))
        return self.shown(), self.latent_state.copy()

    def shown(self) -> np.ndarray:
        """The images shown now, as indices into ``images``."""
        return self.image_index + self.image_offset

    def reset_where(self, done: np.ndarray) -> None:
        """``reset()`` (no new seed) of the environments where ``done``, in agent order."""
        for n in np.flatnonzero(done):
            env = self.envs[n]
            self._follow_schedule(n)
            self.latent_state[n] = self._start[n] if self._sparse[n] else int(env._rng.integers(env.n_states))
            self.t[n] = 0
            self._observe(n)
        self._write_back()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every agent's action at once: (rewards float32, truncated bool, next image indices).

        The latent state after the step is in ``self.latent_state``; at a truncation the
        observation returned is the real next one (reset with ``reset_where`` afterwards).
        """
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (self.n,) or actions.min() < 0 or actions.max() >= self.n_actions:
            raise ValueError(f"actions: expected {self.n} integers in 0..{self.n_actions - 1}, found {actions.tolist()}")
        A = self.n_actions
        switching = (self.switch_every > 0) & (self.steps_taken % np.maximum(self.switch_every, 1) == 0)
        for n in np.flatnonzero(switching):
            self._follow_schedule(n)  # a switch falls between steps, as in BlockMDP.step
        row = np.where(self._by_image, self.image_index, self.latent_state)
        rewards = self._reward_flat[self._reward_offset + row * A + actions]
        self.latent_state = self._transition_flat[self._transition_offset + self.latent_state * A + actions]
        self.t += 1
        self.steps_taken += 1
        for n in range(self.n):
            self._observe(n)
        self._write_back()
        return rewards.astype(np.float32), self.t >= self.episode_length, self.shown()

    def _follow_schedule(self, n: int) -> None:
        """Agent ``n``'s tables for the task its schedule is in, copied into the batch's."""
        env = self.envs[n]
        task = env.task_at(int(self.steps_taken[n]))
        if task == env.task:
            return
        env._draw_tables(task)
        self._copy_tables(n)

    def _copy_tables(self, n: int) -> None:
        env = self.envs[n]
        start = self._reward_offset[n]
        self._reward_flat[start:start + env.reward_table.size] = env.reward_table.reshape(-1)
        start = self._transition_offset[n]
        self._transition_flat[start:start + env.transitions.size] = env.transitions.reshape(-1)
        self._start[n] = int(env.chain[0]) if env.chain is not None else -1

    def _observe(self, n: int) -> None:
        candidates = self.envs[n].class_images[self.latent_state[n]]
        self.image_index[n] = candidates[self.envs[n]._rng.integers(len(candidates))]

    def state_dict(self) -> list[dict[str, Any]]:
        """Per agent, what ``BlockMDP.state_dict`` holds."""
        return [env.state_dict() for env in self.envs]

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        for env, state in zip(self.envs, states, strict=True):
            env.load_state_dict(state)
        self.read_states()

    def read_states(self) -> None:
        """Take each environment's state (e.g. just loaded from a checkpoint) into the arrays."""
        self.latent_state = np.array([env.latent_state for env in self.envs], dtype=np.int64)
        self.image_index = np.array([env.image_index for env in self.envs], dtype=np.int64)
        self.t = np.array([env.t for env in self.envs], dtype=np.int64)
        self.steps_taken = np.array([env.steps_taken for env in self.envs], dtype=np.int64)
        for n in range(self.n):  # loading a state redrew the tables of the task it was in
            self._copy_tables(n)

    def _write_back(self) -> None:
        for n, env in enumerate(self.envs):
            env.latent_state, env.image_index, env.t = int(self.latent_state[n]), int(self.image_index[n]), int(self.t[n])
            env.steps_taken = int(self.steps_taken[n])
