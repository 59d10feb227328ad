"""DQN as Lyle et al. (2023) train it, after CleanRL's ``dqn.py``: one loop that reads top to bottom.

The phases of every environment step are marked in ``run_dqn``: act (epsilon-greedy), step the
environment, store the transition, train (one TD step on a replay batch), couple (the Brownian copy
of paper §3.2 takes a random step of the same norm), refresh the target network. The loop is a
generator that yields one ``DQNStep`` per environment step, so a scenario can interleave several
agents and measure their networks between steps without the loop knowing about instruments.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from plastilab.agents.brownian import BrownianCopy
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.dqn_interventions import DQNInterventions
from plastilab.agents.q_network import build_q_network
from plastilab.agents.replay_buffer import ReplayBuffer
from plastilab.core.random_state import numpy_generator_state, set_numpy_generator_state
from plastilab.envs.block_mdp import BlockMDP


def linear_schedule(start_e: float, end_e: float, duration: float, t: int) -> float:
    """Epsilon falls linearly from ``start_e`` to ``end_e`` over ``duration`` steps, then stays."""
    slope = (end_e - start_e) / max(duration, 1.0)
    return max(slope * t + start_e, end_e) if end_e <= start_e else min(slope * t + start_e, end_e)


def td_loss(q_taken: torch.Tensor, td_target: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean TD loss of Q(s, a) against its (already detached) target."""
    if kind == "huber":
        return F.smooth_l1_loss(q_taken, td_target)
    return F.mse_loss(q_taken, td_target)


def td_loss_fn(kind: str) -> Callable[[torch.Tensor, tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """The TD loss as ``loss_fn(q_values, (actions, td_targets))``, the instruments' calling form.

    With the targets held fixed it is a function of the online parameters alone, so the Hessian
    and gradient covariance it gives are those of the objective the optimiser is descending.
    """

    def loss_fn(q_values: torch.Tensor, targets: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        actions, td_target = targets
        q_taken = q_values.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return td_loss(q_taken, td_target, kind)

    return loss_fn


class DQNStep(NamedTuple):
    """What happened at one environment step (tensors stay on the device: no sync per step)."""

    step: int
    epsilon: float
    td_loss: torch.Tensor | None  # None when this step took no gradient step
    q_mean: torch.Tensor | None  # mean Q(s, a) of the replay batch
    episode_return: float | None  # set on the step an episode ends
    target_refreshed: bool
    return_so_far: float = 0.0  # of the episode under way after this step (what a resume needs)
    interventions: dict[str, float] | None = None  # what the interventions did after this step's update


class DQN:
    """The learner's state: online and target Q-networks, optimiser, replay buffer, and the
    optional Brownian copy. ``run_dqn`` is the algorithm; this only holds what it changes."""

    def __init__(
        self,
        config: DQNConfig,
        observation_shape: tuple[int, ...],
        n_actions: int,
        *,
        device: str = "cpu",
        seed: int = 0,
        brownian: bool = False,
    ) -> None:
        self.config = config
        self.n_actions = n_actions
        self.device = torch.device(device)
        self.q_network = initial_q_network(config, observation_shape, n_actions, seed, self.device)
        # Interventions change the online network before it is copied and given an optimiser
        # (spectral norm, continual backprop's hooks), and may wrap the optimiser (TRAC)
        self.interventions = None
        if config.interventions:
            fresh = lambda: fresh_q_network(config, observation_shape, n_actions, self.device)  # noqa: E731
            self.interventions = DQNInterventions(config, seed, fresh)
            self.interventions.prepare(self.q_network)
        self.target_network = copy.deepcopy(self.q_network)
        self.optimizer = make_dqn_optimizer(config, self.q_network.parameters())
        if self.interventions is not None:
            self.optimizer = self.interventions.wrap_optimizer(self.optimizer)
        sampler = torch.Generator().manual_seed(seed + 1)
        self.replay_buffer = ReplayBuffer(config.buffer_size, observation_shape, device=self.device, generator=sampler)
        self.explore_rng = np.random.default_rng([seed, 0xE])
        self.brownian = BrownianCopy(self.q_network, seed=seed + 2) if brownian else None

    def state_dict(self) -> dict:
        """Everything a checkpoint keeps of the learner: networks, optimiser, replay buffer,
        the exploration stream and the Brownian copy."""
        return {
            "q_network": self.q_network.state_dict(),
            "target_network": self.target_network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "replay_buffer": self.replay_buffer.state_dict(),
            "explore_rng": numpy_generator_state(self.explore_rng),
            "brownian": self.brownian.state_dict() if self.brownian is not None else None,
            "interventions": self.interventions.state_dict() if self.interventions is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        if self.interventions is not None:  # first the injected heads the saved networks had
            self.interventions.rebuild(self, state["interventions"])
        self.q_network.load_state_dict(state["q_network"])
        self.target_network.load_state_dict(state["target_network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.replay_buffer.load_state_dict(state["replay_buffer"])
        set_numpy_generator_state(self.explore_rng, state["explore_rng"])
        if self.brownian is not None:
            self.brownian.load_state_dict(state["brownian"])
        if self.interventions is not None:
            self.interventions.load_state_dict(state["interventions"], self.device)

    def td_targets(self, rewards: torch.Tensor, next_observations: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        return td_targets(self.config, self.q_network, self.target_network, rewards, next_observations, dones)


def td_targets(config: DQNConfig, q_network: torch.nn.Module, target_network: torch.nn.Module, rewards: torch.Tensor, next_observations: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
    """r + gamma * (1 - done) * Q_target(s', a'), a' = argmax of the target (or, for double
    DQN, of the online) network. Never differentiated."""
    with torch.no_grad():
        next_q = target_network(next_observations)
        if config.double_dqn:
            best = q_network(next_observations).argmax(dim=1, keepdim=True)
            next_value = next_q.gather(1, best).squeeze(1)
        else:
            next_value = next_q.max(dim=1).values
        return rewards + config.gamma * (1.0 - dones) * next_value


def initial_q_network(config: DQNConfig, observation_shape: tuple[int, ...], n_actions: int, seed: int, device: torch.device | str) -> torch.nn.Module:
    """The Q-network agent ``seed`` starts from: its parameters depend on the seed alone (drawn
    in a forked torch stream), so an agent starts the same alone or inside a population."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fresh_q_network(config, observation_shape, n_actions, device)


def fresh_q_network(config: DQNConfig, observation_shape: tuple[int, ...], n_actions: int, device: torch.device | str) -> torch.nn.Module:
    """A new Q-network of the agent's architecture, drawn from torch's current stream (a full
    reset's source of fresh values)."""
    return build_q_network(
        config.torso, observation_shape, n_actions,
        hidden=config.hidden, channels=config.channels, layer_norm=config.layer_norm,
    ).to(device)


def make_dqn_optimizer(config: DQNConfig, params) -> torch.optim.Optimizer:
    """The agent's optimiser, as its config names it: Adam, or Dopamine's centred RMSProp."""
    if config.optimizer == "adam":
        # fused_adam: torch's fused kernel (a population's stacked Adam then runs it too, so an
        # agent alone and inside a population still agree bit for bit)
        return torch.optim.Adam(params, lr=config.learning_rate, eps=config.eps, fused=config.fused_adam or None)
    # Dopamine's DQN: RMSProp with centred second moments and momentum 0
    return torch.optim.RMSprop(params, lr=config.learning_rate, eps=config.eps, alpha=0.95, centered=True)


def run_dqn(
    env: BlockMDP,
    agent: DQN,
    total_steps: int,
    seed: int = 0,
    before_update: Callable[[int], None] | None = None,
    resume_after: tuple[int, float] | None = None,
) -> Iterator[DQNStep]:
    """Train ``agent`` on ``env`` for ``total_steps`` environment steps, yielding after each.

    Steps count from 1, so "every N steps" falls on multiples of N, as the instruments' periods
    do. ``before_update(step)`` is called just before each optimiser step (an instrument hook).
    ``resume_after = (steps, return_so_far)`` continues a loop that took ``steps`` steps, its
    agent and environment restored from a checkpoint (the environment shows the observation it
    showed then; ``return_so_far`` is that step's ``DQNStep.return_so_far``).
    """
    args = agent.config
    q_network, target_network, optimizer, rb = agent.q_network, agent.target_network, agent.optimizer, agent.replay_buffer
    rng = agent.explore_rng
    device = agent.device
    interventions = agent.interventions

    if resume_after is None:
        obs, info = env.reset(seed=seed)
        first, episode_return = 1, 0.0
    else:
        obs, info = env.current()
        first, episode_return = resume_after[0] + 1, resume_after[1]
    obs = obs.to(device)
    for step in range(first, total_steps + 1):
        # ACT: epsilon-greedy on the online network
        epsilon = linear_schedule(args.start_e, args.end_e, args.exploration_fraction * total_steps, step - 1)
        if rng.random() < epsilon:
            action = int(rng.integers(agent.n_actions))
        else:
            with torch.no_grad():
                action = int(q_network(obs.unsqueeze(0)).argmax(dim=1).item())

        # STEP the environment
        next_obs, reward, terminated, truncated, next_info = env.step(action)
        next_obs = next_obs.to(device)
        episode_return += reward

        # STORE the transition; at a truncation next_obs is the real next observation, and done
        # is only `terminated`, so the target bootstraps through the cut (CleanRL's real_next_obs)
        rb.add(obs, next_obs, action, reward, terminated, info["latent_state"])

        # TRAIN: one TD step on a uniformly sampled replay batch (plus the interventions'
        # penalties; their edits of the network follow the step)
        loss = q_mean = None
        intervened = None
        if step > args.learning_starts and step % args.train_frequency == 0:
            data = rb.sample(args.batch_size)
            td_target = agent.td_targets(data.rewards, data.next_observations, data.dones)
            # penalties first, so that the TD batch's forward is the last one with gradients
            # (continual backprop reads its activations from that one)
            penalty = interventions.penalty(q_network, rb, args.batch_size) if interventions is not None else None
            q_taken = q_network(data.observations).gather(1, data.actions.unsqueeze(1)).squeeze(1)
            loss = td_loss(q_taken, td_target, args.loss)
            if before_update is not None:
                before_update(step)
            before = agent.brownian.snapshot(q_network) if agent.brownian is not None else None
            optimizer.zero_grad()
            (loss if penalty is None else loss + penalty).backward()
            optimizer.step()
            loss, q_mean = loss.detach(), q_taken.detach().mean()
            if interventions is not None:
                intervened = interventions.after_update(agent, step, loss)

            # COUPLE: the Brownian copy moves as far as this update did, in a random direction
            if agent.brownian is not None:
                agent.brownian.step_like(before, q_network)

        # REFRESH the target network every `target_network_frequency` steps once learning runs
        refreshed = step > args.learning_starts and step % args.target_network_frequency == 0
        if refreshed:
            target_network.load_state_dict(q_network.state_dict())

        ended_return = None
        if terminated or truncated:
            ended_return = episode_return
            episode_return = 0.0
            next_obs, next_info = env.reset()
            next_obs = next_obs.to(device)
        obs, info = next_obs, next_info
        yield DQNStep(step, epsilon, loss, q_mean, ended_return, refreshed, episode_return, intervened or None)
