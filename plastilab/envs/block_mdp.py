"""The block MDP of Lyle et al. (2023, §3.1): image classification turned into a control problem.

A block MDP has a small set of latent states, each of which emits many distinct observations
(its "block"). Here the latent states are the classes of an image dataset and an observation is a
random image of the current class, so the agent must see through the pixels to the class — the same
representation problem as classification, but learned by temporal differences against a moving
target. See docs/block_mdp.md for the three reward variants and why each exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plastilab.core.random_state import numpy_generator_state
from plastilab.core.random_state import set_numpy_generator_state

REWARD_VARIANTS = ("class_aligned", "image_random", "sparse")


class BlockMDP:
    """A block MDP over an image dataset, with Gymnasium's ``reset``/``step`` conventions.

    Latent states are the dataset's K classes (labels 0..K-1); there are ``n_actions`` actions.
    Every table below is drawn once from ``seed``, so a seed names one MDP exactly. An observation
    is an image drawn uniformly from the images of the current latent state's class (its own random
    stream, also seeded by ``reset(seed=...)``).

    Reward variants (``reward``), all rewards 0 or 1:

    ``class_aligned``
        Reward depends on the image's class and the action: every latent state ``s`` has one
        rewarded action ``rewarded_action[s]`` drawn uniformly; ``r = 1`` iff ``a`` is it. Images of
        a class look alike, so the reward sits on a network's inductive bias (the aligned case).
        Transitions: ``transitions[s, a]`` is a latent state drawn uniformly for each (s, a).
        Start: a latent state drawn uniformly. Optimal return: ``episode_length``.
    ``image_random``
        Reward is a fixed random function of the individual image: every image ``i`` has one
        rewarded action ``rewarded_action[i]`` drawn uniformly, independent of its class, and
        ``r = 1`` iff ``a`` is it. Nothing about an image's looks predicts its reward, so fitting it
        is pure memorisation (the misaligned case). Transitions and start as for ``class_aligned``.
        Optimal return: ``episode_length``.
    ``sparse``
        Reward only on reaching a goal latent state, so value must be carried back through the
        action-dependent transitions (credit assignment). The latent states form a chain in a
        random order ``chain[0] -> chain[1] -> ... -> chain[K-1]`` (the goal). In ``chain[p]`` one
        action, ``rewarded_action[chain[p]]`` (drawn uniformly), advances to ``chain[p+1]``; every
        other action stays put. Entering the goal pays ``r = 1``; every action from the goal returns
        to ``chain[0]``. Start: ``chain[0]``. The optimal policy collects one reward every K steps.

    Episodes last ``episode_length`` steps and end with ``truncated=True``; ``terminated`` is always
    False (the task continues forever and is only cut into episodes), so an agent should bootstrap
    through the cut.

    Observations are float images of shape (C, H, W) on the images' device; ``info`` carries the
    ``latent_state`` and the ``image_index``, for measurements ordered by class, never for the agent.

    Continual RL (``switch_every = N > 0``): after every N steps (counted over episodes, from the
    first ``reset``) the reward and transition tables are drawn again, task k's from the stream
    ``[seed, 0xB10C, k]`` (task 0's is the seed's own, so N = 0 and task 0 are the same MDP). The
    images, their classes and the observation stream are untouched: the agent sees the same
    pixels and must learn new values for them. Nothing tells the agent; the schedule knows
    (``task_at``). The latent state carries over a switch; a sparse chain's start moves with it.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        reward: str = "class_aligned",
        n_actions: int | None = None,
        episode_length: int = 100,
        seed: int = 0,
        switch_every: int = 0,
    ) -> None:
        if reward not in REWARD_VARIANTS:
            raise ValueError(f"reward: found {reward!r}; allowed: {', '.join(REWARD_VARIANTS)}")
        if episode_length < 1:
            raise ValueError(f"episode_length: found {episode_length}; allowed: an integer >= 1")
        if switch_every < 0:
            raise ValueError(f"switch_every: found {switch_every}; allowed: 0 (never) or an integer >= 1")
        self.images = images
        self.labels = labels.to(torch.int64).cpu()
        self.n_states = int(self.labels.max()) + 1
        self.n_actions = int(n_actions) if n_actions is not None else self.n_states
        if self.n_actions < 2:
            raise ValueError(f"n_actions: found {self.n_actions}; allowed: an integer >= 2")
        self.reward_variant = reward
        self.episode_length = int(episode_length)
        self.observation_shape = tuple(images.shape[1:])

        # The images of each latent state: an observation of state s is one of these, uniformly.
        label_array = self.labels.numpy()
        self.class_images = [np.flatnonzero(label_array == s) for s in range(self.n_states)]
        empty = [s for s, idx in enumerate(self.class_images) if len(idx) == 0]
        if empty:
            raise ValueError(f"latent states {empty} have no images; use more images or fewer classes")

        self.seed = seed
        self.switch_every = int(switch_every)
        self.steps_taken = 0  # over every episode: where the switch schedule is
        self.task = 0
        self._draw_tables(0)

        self._rng = np.random.default_rng([seed, 0x0B5])  # observations and start states
        self.latent_state = 0
        self.image_index = 0
        self.t = 0

    # -- Gymnasium's interface ------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng([seed, 0x0B5])
        self._follow_schedule()
        if self.reward_variant == "sparse":
            self.latent_state = int(self.chain[0])
        else:
            self.latent_state = int(self._rng.integers(self.n_states))
        self.t = 0
        return self._observe(), self._info()

    def step(self, action: int) -> tuple[torch.Tensor, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < self.n_actions:
            raise ValueError(f"action {a} is outside 0..{self.n_actions - 1}")
        self._follow_schedule()  # a switch falls between steps, unseen by the agent
        reward = self.reward(self.latent_state, self.image_index, a)
        self.latent_state = int(self.transitions[self.latent_state, a])
        self.t += 1
        self.steps_taken += 1
        obs = self._observe()
        truncated = self.t >= self.episode_length
        return obs, reward, False, truncated, self._info()

    def current(self) -> tuple[torch.Tensor, dict[str, Any]]:
        """The observation shown now and its info, drawing nothing (a resumed agent's loop)."""
        return self.images[self.image_index], self._info()

    def state_dict(self) -> dict[str, Any]:
        """Where the environment is: its stream, latent state, image and time in the episode
        (the tables are the seed's, built again)."""

        return {
            "rng": numpy_generator_state(self._rng), "latent_state": self.latent_state, "image_index": self.image_index, "t": self.t,
            "steps_taken": self.steps_taken,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:

        set_numpy_generator_state(self._rng, state["rng"])
        self.latent_state, self.image_index, self.t = int(state["latent_state"]), int(state["image_index"]), int(state["t"])
        self.steps_taken = int(state.get("steps_taken", 0))  # a checkpoint from before switches: no schedule
        if self.task != self.task_at(self.steps_taken):  # the tables of the task it was in
            self._draw_tables(self.task_at(self.steps_taken))

    # -- the tables -----------------------------------------------------------------------------
    def _draw_tables(self, task: int) -> None:
        """Task ``task``'s reward and transition tables (task 0: the seed's own MDP)."""
        # the MDP itself: fixed by the seed alone (and, in a continual run, the task's index)
        tables = np.random.default_rng([self.seed, 0xB10C] if task == 0 else [self.seed, 0xB10C, task])
        self.task = task
        K, A = self.n_states, self.n_actions
        if self.reward_variant == "sparse":
            self.chain = tables.permutation(K)
            self.goal = int(self.chain[-1])
            self.rewarded_action = tables.integers(0, A, size=K)
            self.transitions = np.repeat(np.arange(K)[:, None], A, axis=1)  # wrong actions stay put
            for p in range(K - 1):
                s = self.chain[p]
                self.transitions[s, self.rewarded_action[s]] = self.chain[p + 1]
            self.transitions[self.goal, :] = self.chain[0]
            self.reward_table = (self.transitions == self.goal).astype(np.float32)  # (K, A)
            self.reward_table[self.goal, :] = 0.0  # leaving the goal is not reaching it
        else:
            self.chain = None
            self.goal = None
            self.transitions = tables.integers(0, K, size=(K, A))
            n_rows = K if self.reward_variant == "class_aligned" else len(self.labels)
            self.rewarded_action = tables.integers(0, A, size=n_rows)
            # (K, A) for class_aligned, (N, A) for image_random: one rewarded action per row
            self.reward_table = np.zeros((n_rows, A), dtype=np.float32)
            self.reward_table[np.arange(n_rows), self.rewarded_action] = 1.0

    def task_at(self, steps_taken: int) -> int:
        """The task in force for the step after ``steps_taken`` steps (0 without switches)."""
        return steps_taken // self.switch_every if self.switch_every else 0

    def _follow_schedule(self) -> None:
        task = self.task_at(self.steps_taken)
        if task != self.task:
            self._draw_tables(task)

    def reward(self, latent_state: int, image_index: int, action: int) -> float:
        """The reward for taking ``action`` while shown image ``image_index`` of ``latent_state``."""
        row = image_index if self.reward_variant == "image_random" else latent_state
        return float(self.reward_table[row, action])

    def optimal_return(self) -> float:
        """Expected undiscounted return of one episode under the best policy."""
        return self._episode_value(best=True)

    def random_return(self) -> float:
        """Expected undiscounted return of one episode under uniformly random actions."""
        return self._episode_value(best=False)

    def _episode_value(self, best: bool) -> float:
        if self.reward_variant != "sparse":
            # Every latent state (every image, for image_random) has exactly one rewarded action
            # and the agent sees the image, so the best policy earns 1 a step and chance 1/A.
            per_step = 1.0 if best else 1.0 / self.n_actions
            return per_step * self.episode_length
        # Finite-horizon dynamic programming over the latent chain, from its first state.
        value = np.zeros(self.n_states)
        for _ in range(self.episode_length):
            q = self.reward_table + value[self.transitions]  # (K, A)
            value = q.max(axis=1) if best else q.mean(axis=1)
        return float(value[int(self.chain[0])])

    # -- helpers --------------------------------------------------------------------------------
    def _observe(self) -> torch.Tensor:
        candidates = self.class_images[self.latent_state]
        self.image_index = int(candidates[self._rng.integers(len(candidates))])
        return self.images[self.image_index]

    def _info(self) -> dict[str, Any]:
        return {"latent_state": self.latent_state, "image_index": self.image_index}
