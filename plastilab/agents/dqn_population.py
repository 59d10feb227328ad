"""N DQN learners as one stack: what ``DQN`` holds, with a leading agent axis.

The agents share the network's shape and the optimiser's class; they may differ in seed (their
initial parameters, replay sampling, exploration and Brownian streams), in their environment's
reward variant, and in the optimiser's hyperparameters (``learning_rate``, ``eps``) and the
epsilon schedule (``start_e``, ``end_e``, ``exploration_fraction``). Everything else of their
``DQNConfig`` must agree (``compatible``), since one batched step serves all of them.

Agent ``n`` draws every random number from the streams a ``DQN`` of its seed draws from, in the
same order, so it trains as it would alone: bit for bit on the CPU for the plain MLP (the stacked
forward and optimisers keep a lone agent's operation order), up to float rounding for the torsos
that go through ``vmap`` (tests/test_dqn_population.py).
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from plastilab.agents.dqn import initial_q_network
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.dqn_interventions import DQNInterventions
from plastilab.agents.dqn_interventions_config import unstackable_names
from plastilab.agents.index_replay import IndexReplay
from plastilab.core.random_state import numpy_generator_state
from plastilab.core.random_state import set_numpy_generator_state
from plastilab.population import Population, make_stacked_optimizer

# What agents of one population may set apart; every other DQNConfig key is shared.
PER_AGENT_KEYS = ("learning_rate", "eps", "start_e", "end_e", "exploration_fraction")


def compatible(configs: list[DQNConfig]) -> bool:
    """Whether agents with these configs can train as one population."""
    shared = [c.model_dump(exclude=set(PER_AGENT_KEYS)) for c in configs]
    return all(s == shared[0] for s in shared[1:])


def td_losses(q_taken: torch.Tensor, td_target: torch.Tensor, kind: str) -> torch.Tensor:
    """Each agent's mean TD loss ``[N]`` of ``q_taken`` ``[N, B]`` against its fixed target."""
    if kind == "huber":
        return F.smooth_l1_loss(q_taken, td_target, reduction="none").mean(-1)
    return F.mse_loss(q_taken, td_target, reduction="none").mean(-1)


class DQNPopulation:
    """The online and target stacks, the stacked optimiser, the ``[N, capacity]`` replay of image
    indices, each agent's exploration stream, and the Brownian copies (a stack too)."""

    def __init__(
        self,
        configs: list[DQNConfig],
        images: torch.Tensor,
        n_actions: int,
        *,
        seeds: list[int],
        device: str = "cpu",
        brownian: bool = False,
    ) -> None:
        if len(configs) != len(seeds) or not configs:
            raise ValueError(f"one config per seed: found {len(configs)} configs and {len(seeds)} seeds")
        if not compatible(configs):
            raise ValueError(f"agents of one population may differ only in {', '.join(PER_AGENT_KEYS)}")
        self.configs = configs
        self.config = configs[0]  # the shared keys
        self.n = len(configs)
        self.n_actions = n_actions
        self.device = torch.device(device)
        self.seeds = list(seeds)
        observation_shape = tuple(images.shape[1:])
        networks = [initial_q_network(c, observation_shape, n_actions, s, self.device) for c, s in zip(configs, seeds)]
        # Copies first: once stacked, a network's parameters are views into the whole stack
        targets = [copy.deepcopy(m) for m in networks]
        copies = [copy.deepcopy(m) for m in networks] if brownian else None
        self.online = Population(networks)
        self.target = Population(targets)
        # Q-values [N, B, A] of observations [N, B, ...]. For a plain MLP the population runs
        # the direct stacked form, whose floats are each lone network's bit for bit on the CPU:
        # a greedy action flips on a last-bit difference, and the agent's data differ from then on.
        self.q_values = self.online
        self.target_q_values = self.target
        # Dopamine's centred RMSProp or Adam, as dqn.make_dqn_optimizer builds for one agent
        self.optimizer = make_stacked_optimizer(self.config.optimizer, self.online.parameters(), optimizer_hyper(configs), fused=self.config.fused_adam)
        samplers = [torch.Generator().manual_seed(s + 1) for s in seeds]
        self.replay = IndexReplay(self.n, self.config.buffer_size, images, samplers, device=self.device)
        self.explore_rngs = [np.random.default_rng([s, 0xE]) for s in seeds]
        self.brownian = StackedBrownian(copies, seeds, self.device) if copies is not None else None
        # Interventions that edit parameters alone, agent by agent through its module's views
        # (dqn_interventions_config.STACKABLE), drawing from the agent's own streams as it would alone
        refused = unstackable_names(self.config)
        if refused:
            raise ValueError(f"a population cannot apply {refused[0]} yet (it needs its own optimiser state, loss or network); train these agents with training.population = \"off\"")
        self.interventions = [DQNInterventions(c, s, fresh_network=None) if c.interventions else None for c, s in zip(configs, seeds)]
        for plan, network in zip(self.interventions, networks):
            if plan is not None:
                plan.prepare(network)

    def intervene(self, step: int) -> list[dict[str, float] | None]:
        """Each agent's interventions after the update of environment step ``step``."""
        return [
            plan.after_update(StackedAgent(self.online.models[n], self.target.models[n], None, None, self.device), step) or None
            if plan is not None else None
            for n, plan in enumerate(self.interventions)
        ]

    def td_targets(self, rewards: torch.Tensor, next_observations: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """``[N, B]``: r + gamma (1 - done) Q_target(s', a'), a' the target's (double DQN: the
        online network's) argmax. Never differentiated."""
        with torch.no_grad():
            next_q = self.target_q_values(next_observations)  # [N, B, A]
            if self.config.double_dqn:
                best = self.q_values(next_observations).argmax(dim=-1, keepdim=True)
                next_value = next_q.gather(-1, best).squeeze(-1)
            else:
                next_value = next_q.max(dim=-1).values
            return rewards + self.config.gamma * (1.0 - dones) * next_value

    def refresh_targets(self) -> None:
        with torch.no_grad():
            self.target.flat.copy_(self.online.flat)

    # -- checkpoints ----------------------------------------------------------------------------
    def agent_state_dict(self, n: int) -> dict:
        """Agent ``n`` alone, under ``DQN.state_dict``'s keys: its networks, its optimiser's
        state, its replay buffer (image indices) and its streams."""

        return {
            "q_network": self.online.models[n].state_dict(),
            "target_network": self.target.models[n].state_dict(),
            "optimizer": self.optimizer.agent_state(n),
            "replay_buffer": self.replay.agent_state_dict(n),
            "explore_rng": numpy_generator_state(self.explore_rngs[n]),
            "brownian": self.brownian.agent_state_dict(n) if self.brownian is not None else None,
            "interventions": self.interventions[n].state_dict() if self.interventions[n] is not None else None,
        }

    def load_agent_state_dict(self, n: int, state: dict) -> None:

        self.online.models[n].load_state_dict(state["q_network"])
        self.target.models[n].load_state_dict(state["target_network"])
        self.optimizer.load_agent_state(n, state["optimizer"])
        self.replay.load_agent_state_dict(n, state["replay_buffer"])
        set_numpy_generator_state(self.explore_rngs[n], state["explore_rng"])
        if self.brownian is not None:
            self.brownian.load_agent_state_dict(n, state["brownian"])
        if self.interventions[n] is not None:
            self.interventions[n].load_state_dict(state["interventions"], self.device)


class StackedAgent(NamedTuple):
    """What an agent's interventions read of it, for an agent of a population: its modules (views
    into the stacks); no optimiser or replay of its own (the stackable ones need neither)."""

    q_network: torch.nn.Module
    target_network: torch.nn.Module
    optimizer: None
    replay_buffer: None
    device: torch.device


def optimizer_hyper(configs: list[DQNConfig]) -> dict:
    """Each agent's hyperparameters of the optimiser ``dqn.make_dqn_optimizer`` builds: Adam's
    defaults, or Dopamine's centred RMSProp (alpha 0.95, momentum 0)."""
    hyper = {"lr": [c.learning_rate for c in configs], "eps": [c.eps for c in configs]}
    return hyper if configs[0].optimizer == "adam" else {**hyper, "alpha": 0.95, "momentum": 0.0}


class StackedBrownian:
    """``BrownianCopy`` for every agent: the copies as one stack, each agent's directions drawn
    from its own generator (seeded ``seed + 2`` as a lone agent's is) in the same order."""

    def __init__(self, copies: list[torch.nn.Module], seeds: list[int], device: torch.device) -> None:
        self.population = Population(copies)
        self.generators = [torch.Generator(device=device).manual_seed(s + 2) for s in seeds]

    def network(self, n: int) -> torch.nn.Module:
        return self.population.models[n]

    @staticmethod
    def snapshot(population: Population) -> list[torch.Tensor]:
        return [p.detach().clone() for p in population.parameters()]

    @torch.no_grad()
    def step_like(self, before: list[torch.Tensor], population: Population) -> None:
        """Each agent's copy takes, tensor by tensor, a random step with the norm of its twin's."""
        for mine, old, new in zip(self.population.parameters(), before, population.parameters(), strict=True):
            norm = torch.linalg.vector_norm((new.detach() - old).flatten(1), dim=1)  # [N]
            shape = mine.shape[1:]
            direction = torch.stack([torch.randn(shape, generator=g, device=mine.device, dtype=mine.dtype) for g in self.generators])
            scale = norm / torch.linalg.vector_norm(direction.flatten(1), dim=1).clamp_min(1e-30)
            mine.add_(direction * scale.view(-1, *([1] * len(shape))))

    def agent_state_dict(self, n: int) -> dict:
        return {"network": self.network(n).state_dict(), "generator": self.generators[n].get_state()}

    def load_agent_state_dict(self, n: int, state: dict) -> None:
        self.network(n).load_state_dict(state["network"])
        self.generators[n].set_state(state["generator"])
