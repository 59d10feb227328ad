"""How the block-MDP runner trains its combinations: each alone, or the compatible ones as populations.

``training.population`` picks: ``"off"`` gives every combination its own ``DQN`` and ``run_dqn``
loop (the one-agent form); ``"on"`` trains every group of compatible combinations (agents whose
``DQNConfig`` agree but for the per-agent keys, see ``dqn_population.PER_AGENT_KEYS``) as one
``DQNPopulation`` over a ``BlockMDPBatch``, a lone combination as a population of one; ``"auto"``
(the default) does so where ``POPULATION_PAYS`` says it is faster. Either way each combination
has its own environment and agent (``PopulationMember`` shows a population's agent as a ``DQN``),
draws the same numbers and writes the same series: the two forms agree bit for bit on the CPU
(tests/test_dqn_population.py, tests/test_block_mdp_population.py).

Interventions: a population applies those that edit an agent's parameters alone
(``dqn_interventions_config.STACKABLE``: shrink-and-perturb, decoupled weight decay), each agent's as it
would alone. The others need an agent's own optimiser state (ReDo, resets, continual backprop),
its own loss (L2-Init, C-CHAIN) or its own network's structure (injection): ``"auto"`` trains an
agent using one of them alone, and ``"on"`` is refused at validation (schema.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from plastilab.agents.dqn import DQN, DQNStep, run_dqn, td_targets
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.dqn_interventions_config import unstackable_names
from plastilab.agents.dqn_population import PER_AGENT_KEYS, DQNPopulation
from plastilab.agents.replay_buffer import Transitions
from plastilab.agents.run_dqn_population import run_dqn_population
from plastilab.envs.block_mdp import BlockMDP
from plastilab.envs.block_mdp_batch import BlockMDPBatch

# Where a population is faster than its agents one after another ("auto" follows this): the
# smallest population size that pays. bench/bench_dqn_population.py, the falsification agent
# (784-256-256-4, batch 32, Adam), one CPU thread, CPU time, machine at load 10-14: agent-steps/s
# against one agent alone N = 1: 0.90x, 3: 1.29x, 8: 1.53x, 32: 1.65x. A population of one only
# saves memory (its replay holds image indices, 76x fewer bytes), so "auto" leaves a lone agent
# alone. Not yet measured on a GPU, where the stack's fewer, larger kernels should pay more:
# run the bench with --device cuda before trusting "auto" there.
POPULATION_PAYS = {"cpu": 3, "cuda": 3, "mps": 3}


class MemberReplay:
    """A population's replay seen as one agent's ``ReplayBuffer`` (measurements sample from it)."""

    def __init__(self, pop: DQNPopulation, n: int) -> None:
        self.pop, self.n = pop, n

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Transitions:
        if generator is None:
            raise ValueError("a population member's replay is sampled for training by the population; pass a measurement generator")
        return self.pop.replay.sample_agent(self.n, batch_size, generator)


class MemberBrownian:
    def __init__(self, network: torch.nn.Module) -> None:
        self.network = network


class PopulationMember:
    """Agent ``n`` of ``pop`` with the attributes of a ``DQN`` that the runner reads: its networks
    (views into the stacks), its replay, its TD targets and its checkpoint."""

    def __init__(self, pop: DQNPopulation, n: int) -> None:
        self.pop, self.n = pop, n
        self.config = pop.configs[n]
        self.q_network = pop.online.models[n]
        self.target_network = pop.target.models[n]
        self.brownian = MemberBrownian(pop.brownian.network(n)) if pop.brownian is not None else None
        self.replay_buffer = MemberReplay(pop, n)

    def td_targets(self, rewards: torch.Tensor, next_observations: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        return td_targets(self.config, self.q_network, self.target_network, rewards, next_observations, dones)

    def state_dict(self) -> dict:
        return self.pop.agent_state_dict(self.n)

    def load_state_dict(self, state: dict) -> None:
        self.pop.load_agent_state_dict(self.n, state)


@dataclass
class Learners:
    """Combinations ``members`` (indices into the runner's list) and the loop that steps them:
    each ``next`` gives one ``DQNStep`` per member, in order."""

    members: list[int]
    start: Callable[[Callable[[int], None], tuple[int, list[float]] | None], Iterator[list[DQNStep]]]
    loop: Iterator[list[DQNStep]] | None = None


def groups_of_compatible(agents: list[DQNConfig]) -> list[list[int]]:
    """Indices of ``agents`` grouped by everything but the per-agent keys, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, config in enumerate(agents):
        groups.setdefault(config.model_dump_json(exclude=set(PER_AGENT_KEYS)), []).append(i)
    return list(groups.values())


def trains_as_population(choice: str, size: int, device: str, config: DQNConfig | None = None) -> bool:
    """Whether a group of ``size`` compatible agents (of ``config``) trains as one population."""
    if config is not None and unstackable_names(config):
        return False  # "auto" falls back to one at a time ("on" was refused at validation)
    if choice != "auto":
        return choice == "on"
    return size >= POPULATION_PAYS.get(torch.device(device).type, 2)


def build_learners(
    choice: str,
    envs: list[BlockMDP],
    agents: list[DQNConfig],
    *,
    seeds: list[int],
    total_steps: int,
    device: str,
    brownian: bool,
) -> tuple[list[DQN | PopulationMember], list[Learners]]:
    """One agent per environment (the combinations, in order; ``seeds[i]`` is combination i's
    seed), and the learners that step them."""
    members: list[DQN | PopulationMember | None] = [None] * len(envs)
    learners = []
    for group in groups_of_compatible(agents):
        if trains_as_population(choice, len(group), device, agents[group[0]]):
            batch = BlockMDPBatch([envs[i] for i in group])
            group_seeds = [seeds[i] for i in group]
            pop = DQNPopulation([agents[i] for i in group], batch.images, batch.n_actions, seeds=group_seeds, device=device, brownian=brownian)
            for k, i in enumerate(group):
                members[i] = PopulationMember(pop, k)

            def start(hook, resume_after, pop=pop, batch=batch, group_seeds=group_seeds):
                return run_dqn_population(batch, pop, total_steps, group_seeds, before_update=hook, resume_after=resume_after)

            learners.append(Learners(group, start))
        else:
            for i in group:
                env = envs[i]
                members[i] = DQN(agents[i], env.observation_shape, env.n_actions, device=device, seed=seeds[i], brownian=brownian)

                def start(hook, resume_after, env=env, agent=members[i], seed=seeds[i]):
                    after = None if resume_after is None else (resume_after[0], resume_after[1][0])
                    return (_one(record) for record in run_dqn(env, agent, total_steps, seed=seed, before_update=hook, resume_after=after))

                learners.append(Learners([i], start))
    learners.sort(key=lambda learner: learner.members[0])
    return members, learners


def _one(record: DQNStep) -> list[DQNStep]:
    return [record]
