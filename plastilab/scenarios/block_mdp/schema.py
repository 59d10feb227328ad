"""The block-MDP scenario's file format (paper §3.1-3.3: DQN on image observations).

A DQN agent learns by temporal differences in a block MDP whose latent states are the classes of
an image dataset (see ``plastilab.envs.block_mdp.BlockMDP`` and docs/block_mdp.md). While it
trains, the instruments probe its online network for plasticity. Several reward variants and
several agents (e.g. an MLP and a CNN torso) may run side by side: one series per combination,
named ``<agent>/td`` (``<reward>/<agent>/td`` when the file names more than one reward), plus
``<agent>/brownian`` for the coupled Brownian copy of §3.2 when ``training.brownian`` is on.

Reward variants (all rewards are 0 or 1; K classes, A actions, tables drawn from the seed):

* ``class_aligned``: each class has one rewarded action; images of a class look alike, so the
  reward sits on a network's inductive bias. Transitions: a random next class per (class, action).
* ``image_random``: each individual image has one rewarded action, independent of its class: pure
  memorisation. Transitions as for class_aligned.
* ``sparse``: the classes form a chain in a random order; in each one action advances, every other
  stays put; only entering the last class (the goal) pays, and the goal returns to the start.
  Credit must be assigned through K - 1 action-dependent transitions.

Continual RL (``env.switch_every = N``): every N environment steps the reward and transition
tables are drawn again from a seed derived from the run's seed and the switch's index, so every
agent of a seed (plain, layer norm, a resetting method) faces the same sequence of tasks. The
agent is not told; the run marks each switch as a task boundary (``task/index``) for the faces.

This module imports pydantic only, so ``plastilab validate`` never pays for importing torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from plastilab.agents.dqn_config import DQNConfig, refuse_task_change_methods
from plastilab.agents.dqn_interventions_config import STACKABLE, unstackable_names
from plastilab.core.schema import DataConfig, Strict
from plastilab.instruments.schema import InstrumentsConfig, ProbeConfig, StatsConfig
from plastilab.scenarios.schema_parts import AgentsScenario, invalid_key

RewardVariant = Literal["class_aligned", "image_random", "sparse"]


class EnvConfig(Strict):
    rewards: list[RewardVariant] = Field(default_factory=lambda: ["class_aligned"], min_length=1)
    n_actions: int | None = Field(default=None, ge=2)  # None: one action per class
    episode_length: int = Field(default=100, ge=1)
    # Continual RL: redraw the reward and transition tables every N environment steps (0: never)
    switch_every: int = Field(default=0, ge=0)

    @field_validator("rewards")
    @classmethod
    def _distinct(cls, rewards: list[str]) -> list[str]:
        if len(set(rewards)) != len(rewards):
            raise ValueError("each reward variant may appear once")
        return rewards


class TrainingConfig(Strict):
    total_steps: int = Field(default=50_000, ge=1)  # environment steps, for every series
    log_every: int = Field(default=10, ge=1)  # td/loss and q/mean are means over this window
    brownian: bool = False  # run the coupled Brownian copy beside each agent (paper §3.2)
    # Train compatible combinations (agents that differ at most in learning rate, eps and the
    # epsilon schedule) as one population: one batched step for all, each agent's numbers as
    # alone. "auto": where bench/bench_dqn_population.py found it pays (learners.py).
    population: Literal["auto", "on", "off"] = "auto"


def default_agents() -> dict[str, DQNConfig]:
    return {"mlp": DQNConfig()}


def default_instruments() -> InstrumentsConfig:
    return InstrumentsConfig(probe=ProbeConfig(every=5000), stats=StatsConfig(every=1000))


class BlockMDPConfig(AgentsScenario):
    kind: Literal["block_mdp"]
    data: DataConfig = Field(default_factory=lambda: DataConfig(n_images=5000))
    env: EnvConfig = Field(default_factory=EnvConfig)
    agents: dict[str, DQNConfig] = Field(default_factory=default_agents, min_length=1)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    instruments: InstrumentsConfig = Field(default_factory=default_instruments)

    main_parameters = ("env.rewards", "env.switch_every", "training.total_steps", "training.brownian", "instruments.probe.every", "data.n_images", "seed")

    @model_validator(mode="after")
    def _switches_within_the_run(self) -> BlockMDPConfig:
        if self.env.switch_every > self.training.total_steps:
            allowed = f"0 (never) or at most training.total_steps = {self.training.total_steps} (a switch after the run never happens)"
            raise invalid_key(type(self).__name__, ("env", "switch_every"), self.env.switch_every, allowed, "switch_after_the_run")
        return self

    def n_tasks(self) -> int:
        """Tasks the run goes through (1 without switches)."""
        every = self.env.switch_every
        return (self.training.total_steps - 1) // every + 1 if every else 1

    @model_validator(mode="after")
    def _task_change_methods_need_switches(self) -> BlockMDPConfig:
        refuse_task_change_methods(self, self.agents, task_changes=self.env.switch_every > 0)
        return self

    @model_validator(mode="after")
    def _population_can_apply_the_interventions(self) -> BlockMDPConfig:
        if self.training.population != "on":
            return self
        for name, agent in self.agents.items():
            refused = unstackable_names(agent)
            if refused:
                allowed = f'"off" or "auto" (agents.{name} uses {refused[0]}, which a population cannot apply yet; it can: {", ".join(sorted(STACKABLE))})'
                raise invalid_key("BlockMDPConfig", ("training", "population"), "on", allowed, "population_refused")
        return self

    def combinations(self) -> list[tuple[str, str, str]]:
        """(reward, agent name, series prefix) for every series group, in display order."""
        several = len(self.env.rewards) > 1
        return [
            (reward, name, f"{reward}/{name}" if several else name)
            for reward in self.env.rewards
            for name in self.agents
        ]

    def series(self) -> list[str]:
        procedures = ("td", "brownian") if self.training.brownian else ("td",)
        return self.seeded([f"{prefix}/{procedure}" for _, _, prefix in self.combinations() for procedure in procedures])
