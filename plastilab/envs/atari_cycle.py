"""Several Atari games played one after another by one agent: continual RL after Abbas et al. (2023).

Abbas, Zhao, Modayil, White & Machado (2023), "Loss of Plasticity in Continual Deep Reinforcement
Learning" (CoLLAs): one DQN-style agent plays a sequence of ALE games, each for a fixed budget,
and comes back to each game in later rounds; its returns on a game fall round after round. Every
game here runs with the **full 18-action set** (``full_action_space``), as in that paper, so the
network's output layer has one shape for every game and action k means the same joystick move in
each (the union of the games' minimal sets would renumber actions from game to game).

``AtariCycle`` has ``AtariEnv``'s interface, so ``run_dqn`` steps it unchanged. After every
``switch_every`` agent steps (counted over episodes) the episode under way is cut (``truncated``)
and the next ``reset`` starts the next game of the list, cycling. The agent is not told which game
it plays; the schedule (``game_at``) is. Each game keeps its own emulator and streams between its
turns: its first reset is seeded from the run's seed and the game's place in the list, later ones
continue its stream. A cut episode is not a finished one: ``last_episode_complete`` says which.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plastilab.envs.atari import AtariEnv


def game_seed(seed: int, index: int) -> int:
    """The first reset's seed of the game at ``index`` of the list (the first game: ``seed``)."""
    return seed if index == 0 else int(np.random.SeedSequence([seed, 0xA7A, index]).generate_state(1)[0])


class AtariCycle:
    """The games ``games`` (ALE names), ``switch_every`` agent steps each, in a cycle (0: the
    current game until ``select`` changes it, for evaluation). ``options`` go to every ``AtariEnv``."""

    def __init__(self, games: list[str], *, switch_every: int, clip_rewards: bool, device: str | torch.device = "cpu", **options: Any) -> None:
        if not games:
            raise ValueError("games: found an empty list; allowed: one or more ALE games")
        self.games = list(games)
        self.switch_every = int(switch_every)
        self.envs = [AtariEnv(game, clip_rewards=clip_rewards, device=device, full_action_space=True, **options) for game in games]
        self.n_actions = self.envs[0].n_actions  # 18 for every game
        self.observation_shape = self.envs[0].observation_shape
        self.index = 0  # the game played now
        self.steps_taken = 0  # over every game and episode: where the schedule is
        self.seed: int | None = None  # the run's seed, from the first seeded reset
        self.started = [False] * len(games)  # whether each game had its first (seeded) reset
        self.last_episode_complete = False  # the episode that ended last ran to its own end

    # -- the schedule -----------------------------------------------------------------------------
    def game_at(self, steps_taken: int) -> int:
        """The game played on the step after ``steps_taken`` steps."""
        return (steps_taken // self.switch_every) % len(self.games) if self.switch_every else self.index

    @property
    def game(self) -> str:
        return self.games[self.index]

    @property
    def env(self) -> AtariEnv:
        return self.envs[self.index]

    @property
    def frames(self) -> int:
        return sum(env.frames for env in self.envs)

    @property
    def last_episode_return(self) -> float | None:
        return self.env.last_episode_return

    def select(self, index: int) -> None:
        """Play game ``index`` from the next ``reset`` on (an evaluation follows training's game)."""
        self.index = index

    # -- AtariEnv's interface -------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, dict]:
        if seed is not None and self.seed is None:
            self.seed = seed
        self.index = self.game_at(self.steps_taken)
        if seed is None and not self.started[self.index] and self.seed is not None:
            seed = game_seed(self.seed, self.index)  # a game's first turn: its own seeded stream
        self.started[self.index] = True
        obs, info = self.env.reset(seed=seed)
        return obs, {**info, "game": self.index}

    def current(self) -> tuple[torch.Tensor, dict]:
        obs, info = self.env.current()
        return obs, {**info, "game": self.index}

    def step(self, action: int) -> tuple[torch.Tensor, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps_taken += 1
        self.last_episode_complete = terminated or truncated
        if self.switch_every and self.steps_taken % self.switch_every == 0 and len(self.games) > 1:
            truncated = True  # the game's turn is over: its episode is cut, the next reset plays the next
        return obs, reward, terminated, truncated, {**info, "game": self.index}

    def state_dict(self) -> dict[str, Any]:
        return {
            "games": [env.state_dict() if started else None for env, started in zip(self.envs, self.started)],
            "index": self.index, "steps_taken": self.steps_taken, "seed": self.seed,
            "last_episode_complete": self.last_episode_complete,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, (env, saved) in enumerate(zip(self.envs, state["games"], strict=True)):
            self.started[k] = saved is not None
            if saved is not None:
                env.load_state_dict(saved)
        self.index, self.steps_taken, self.seed = int(state["index"]), int(state["steps_taken"]), state["seed"]
        self.last_episode_complete = bool(state["last_episode_complete"])

    def close(self) -> None:
        for env in self.envs:
            env.close()
