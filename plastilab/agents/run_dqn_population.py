"""``run_dqn`` for a population: N agents step N block MDPs at once, one loop that reads top to bottom.

The phases are ``run_dqn``'s, each batched over the agents: act (epsilon-greedy, each agent on
its own exploration stream; one forward pass of the online stack for the greedy ones), step the
environments (``BlockMDPBatch``), store one transition per agent (image indices), train (one TD
step of every agent on its own replay batch: one forward and backward of the stack, one step of
the stacked optimiser), couple (each Brownian copy steps as far as its twin did), refresh the
target stack. It yields, per environment step, one ``DQNStep`` per agent, the very record
``run_dqn`` yields for that agent alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from plastilab.agents.dqn import DQNStep, linear_schedule
from plastilab.agents.dqn_population import DQNPopulation, td_losses
from plastilab.envs.block_mdp_batch import BlockMDPBatch


def run_dqn_population(
    envs: BlockMDPBatch,
    pop: DQNPopulation,
    total_steps: int,
    seeds: list[int],
    before_update: Callable[[int], None] | None = None,
    resume_after: tuple[int, list[float]] | None = None,
) -> Iterator[list[DQNStep]]:
    """Train every agent of ``pop`` on its environment of ``envs`` for ``total_steps`` steps.

    As ``run_dqn``: steps count from 1; ``before_update(step)`` runs just before each optimiser
    step; ``resume_after = (steps, returns_so_far)`` continues a loop whose population and
    environments were restored from a checkpoint.
    """
    args, configs = pop.config, pop.configs
    images, replay, rngs = envs.images, pop.replay, pop.explore_rngs
    if resume_after is None:
        obs, latent = envs.reset(seeds)
        first, episode_return = 1, np.zeros(pop.n)
    else:
        envs.read_states()  # each environment's state, as the checkpoint put it back
        obs, latent = envs.shown(), envs.latent_state.copy()
        first, episode_return = resume_after[0] + 1, np.array(resume_after[1], dtype=np.float64)
    for step in range(first, total_steps + 1):
        # ACT: epsilon-greedy, each agent with its own schedule and exploration stream
        epsilon = [linear_schedule(c.start_e, c.end_e, c.exploration_fraction * total_steps, step - 1) for c in configs]
        actions = np.zeros(pop.n, dtype=np.int64)
        greedy = np.ones(pop.n, dtype=bool)
        for n, rng in enumerate(rngs):
            if rng.random() < epsilon[n]:
                actions[n], greedy[n] = rng.integers(pop.n_actions), False
        if greedy.any():
            with torch.no_grad():  # every agent's Q-values in one pass; the exploring ones are unused
                shown = images[torch.from_numpy(obs).to(images.device)].unsqueeze(1)  # [N, 1, C, H, W]
                best = pop.q_values(shown).argmax(dim=-1).squeeze(1).cpu().numpy()
            actions[greedy] = best[greedy]

        # STEP every environment
        rewards, truncated, next_obs = envs.step(actions)
        episode_return += rewards

        # STORE one transition per agent: image indices, not pixels. No block MDP terminates,
        # so done is always 0 and the target bootstraps through the cut (as run_dqn does)
        replay.add(obs, next_obs, actions, rewards, np.zeros(pop.n, dtype=bool), latent)

        # TRAIN: one TD step of every agent on its own uniformly sampled batch
        losses = q_means = None
        intervened = [None] * pop.n
        if step > args.learning_starts and step % args.train_frequency == 0:
            data = replay.sample(args.batch_size)
            td_target = pop.td_targets(data.rewards, data.next_observations, data.dones)
            q_taken = pop.q_values(data.observations).gather(-1, data.actions.unsqueeze(-1)).squeeze(-1)
            losses = td_losses(q_taken, td_target, args.loss)
            if before_update is not None:
                before_update(step)
            before = pop.brownian.snapshot(pop.online) if pop.brownian is not None else None
            pop.optimizer.zero_grad()
            losses.sum().backward()  # agent n's parameters get the gradient of agent n's loss only
            pop.online.share_gradients()  # each agent's module shows its gradient, as a lone DQN's does
            pop.optimizer.step()
            losses, q_means = losses.detach(), q_taken.detach().mean(-1)
            intervened = pop.intervene(step)

            # COUPLE: each Brownian copy moves as far as its twin's update did
            if pop.brownian is not None:
                pop.brownian.step_like(before, pop.online)

        # REFRESH the target stack every `target_network_frequency` steps once learning runs
        refreshed = step > args.learning_starts and step % args.target_network_frequency == 0
        if refreshed:
            pop.refresh_targets()

        ended = truncated.copy()
        ended_returns = episode_return.copy()
        episode_return[ended] = 0.0
        latent = envs.latent_state.copy()
        if ended.any():
            envs.reset_where(ended)
            next_obs, latent = envs.shown(), envs.latent_state.copy()
        obs = next_obs
        yield [
            DQNStep(
                step, epsilon[n],
                losses[n] if losses is not None else None,
                q_means[n] if q_means is not None else None,
                float(ended_returns[n]) if ended[n] else None,
                refreshed, float(episode_return[n]), intervened[n],
            )
            for n in range(pop.n)
        ]
