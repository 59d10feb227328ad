"""The Atari scenario's file format: DQN on an Atari 2600 game, probed while it learns (§5.3).

The game runs under the Machado et al. (2018) protocol (sticky actions 0.25, minimal action set,
no life-loss signal, 108,000-frame episodes) with the DQN observation of Mnih et al. (2015): every
4th frame, 84×84 grey, 4 stacked (see ``plastilab.envs.atari``). Each agent (one series, named by
its table: ``[agents.dqn]`` logs series ``dqn``) is the block MDP's DQN with a Nature-CNN torso:
double DQN, Huber loss, RMSProp or Adam, target refreshes, replay, an ε schedule, and layer norm on
or off. Rewards are clipped to their sign in training only. Every ``evaluation.every`` steps the
agent plays ``evaluation.episodes`` separate episodes at a fixed small ε, logged as
``eval/return`` and ``eval/human_normalized`` (published random and human scores: ``scores.py``).

Continual RL (``env.games`` with ``env.switch_every = N``): the agent plays the first game for N
steps, then the next, cycling through the list (Abbas et al. 2023); every game with the full
18-action set so one network fits all (``plastilab.envs.atari_cycle``). Returns are logged per game
(``game/<Game>/return``, ``game/<Game>/eval_return``; evaluation plays the game just trained on)
and each switch is a task boundary; ``env.game`` is then unused.

This module imports pydantic only, so ``plastilab validate`` never pays for importing torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from plastilab.agents.dqn_config import DQNConfig, refuse_task_change_methods
from plastilab.core.schema import Strict
from plastilab.instruments.schema import InstrumentsConfig, ProbeConfig, StatsConfig
from plastilab.scenarios.schema_parts import AgentsScenario, invalid_key
from plastilab.scenarios.atari.scores import GAMES

FRAMES_PER_STEP = 4  # the frame skip; every agent step is 4 emulator frames


class EnvConfig(Strict):
    game: str = Field("Pong", description="an ALE game, as in ALE/<game>-v5")
    sticky_actions: float = Field(0.25, ge=0, le=1, description="probability of repeating the last action (Machado et al. 2018)")
    max_frames: int = Field(108_000, ge=FRAMES_PER_STEP, description="emulator frames per episode (108,000 = 30 minutes)")
    noop_max: int = Field(0, ge=0, description="random no-ops at reset (0: sticky actions already randomise)")
    terminal_on_life_loss: bool = Field(False, description="training only: end an episode on a lost life (never at evaluation)")
    clip_rewards: bool = Field(True, description="training only: learn from the sign of each reward")
    games: list[str] = Field(default_factory=list, description="continual RL: games played in turn, switch_every steps each (full 18 actions)")
    switch_every: int = Field(0, ge=0, description="continual RL: agent steps per game's turn (0: one game, env.game)")

    @field_validator("game")
    @classmethod
    def _known(cls, game: str) -> str:
        if game not in GAMES:
            raise ValueError(f"{game!r} has no published random and human score here; allowed: {', '.join(GAMES)}")
        return game

    @field_validator("games")
    @classmethod
    def _all_known(cls, games: list[str]) -> list[str]:
        for game in games:
            cls._known(game)
        if len(set(games)) != len(games):
            raise ValueError("each game may appear once (the cycle comes back to it)")
        return games


class AtariAgentConfig(DQNConfig):
    """DQN with the defaults of Atari DQN (Mnih et al. 2015; Dopamine's double DQN)."""

    torso: Literal["mlp", "cnn", "nature_cnn"] = Field("nature_cnn", description="the Q-network's torso")
    channels: list[int] = Field([32, 64, 64], min_length=1, description="channels of the torso's convolutions")
    hidden: list[int] = Field([512], min_length=1, description="dense widths after the convolutions")
    optimizer: Literal["adam", "rmsprop"] = Field("rmsprop", description="the TD learner's optimiser")
    learning_rate: float = Field(2.5e-4, gt=0, description="the optimiser's step size")
    eps: float = Field(1e-5, gt=0, description="the optimiser's epsilon")
    double_dqn: bool = Field(True, description="pick the bootstrap action with the online network")
    learning_starts: int = Field(20_000, ge=0, description="environment steps before the first gradient step")
    train_frequency: int = Field(4, ge=1, description="environment steps per gradient step")
    target_network_frequency: int = Field(8_000, ge=1, description="environment steps between target-network refreshes")
    end_e: float = Field(0.01, ge=0, le=1, description="epsilon once the schedule is done")

    @model_validator(mode="after")
    def _nature_convolutions(self) -> AtariAgentConfig:
        if self.torso == "nature_cnn" and len(self.channels) != 3:
            raise ValueError(f"channels: found {self.channels}; nature_cnn has three convolutions (e.g. [32, 64, 64])")
        return self


class TrainingConfig(Strict):
    total_steps: int = Field(default=100_000, ge=1)  # agent steps (4 frames each), for every series
    log_every: int = Field(default=100, ge=1)  # td/loss and q/mean are means over this window


class EvaluationConfig(Strict):
    every: int = Field(default=25_000, ge=0)  # agent steps between evaluations (0: only at the end)
    episodes: int = Field(default=10, ge=1)
    epsilon: float = Field(default=0.001, ge=0, le=1)  # Dopamine's evaluation epsilon
    max_frames: int | None = Field(default=None, ge=FRAMES_PER_STEP)  # None: env.max_frames (the protocol)


def default_agents() -> dict[str, AtariAgentConfig]:
    return {"dqn": AtariAgentConfig()}


def default_instruments() -> InstrumentsConfig:
    # high_frequency: targets of unit scale; a random Nature CNN's own outputs on frames are ~1e-3
    probe = ProbeConfig(every=25_000, family="high_frequency", frequency=1e5, offset=1.0)
    return InstrumentsConfig(probe=probe, stats=StatsConfig(every=5_000))


class AtariConfig(AgentsScenario):
    kind: Literal["atari"]
    env: EnvConfig = Field(default_factory=EnvConfig)
    agents: dict[str, AtariAgentConfig] = Field(default_factory=default_agents, min_length=1)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    instruments: InstrumentsConfig = Field(default_factory=default_instruments)

    main_parameters = ("env.game", "training.total_steps", "evaluation.every", "instruments.probe.every", "seed")

    @model_validator(mode="after")
    def _a_cycle_that_switches(self) -> AtariConfig:
        env, steps = self.env, self.training.total_steps
        problem = None
        if env.games and len(env.games) < 2:
            problem = ("games", env.games, "two or more games (one game: env.game)")
        elif env.games and not env.switch_every:
            problem = ("switch_every", env.switch_every, "an integer >= 1 with env.games (agent steps per game's turn)")
        elif env.switch_every and not env.games:
            problem = ("switch_every", env.switch_every, "0 without env.games (list the games to cycle through)")
        elif env.switch_every > steps:
            problem = ("switch_every", env.switch_every, f"at most training.total_steps = {steps} (a switch after the run never happens)")
        if problem is not None:
            key, found, allowed = problem
            raise invalid_key(type(self).__name__, ("env", key), found, allowed, "atari_cycle")
        return self

    @model_validator(mode="after")
    def _task_change_methods_need_switches(self) -> AtariConfig:
        refuse_task_change_methods(self, self.agents, task_changes=self.env.switch_every > 0)
        return self

    def played_games(self) -> list[str]:
        """The games the agent plays: the cycle's, or the one game."""
        return list(self.env.games) or [self.env.game]

    def series(self) -> list[str]:
        return self.seeded(list(self.agents))

    def preflight_check(self, source: str) -> None:
        """Before any run folder: the Atari extra is installed (one line naming it otherwise)."""
        from plastilab.envs.atari import require_atari  # deferred: pulls in torch

        require_atari(source)
