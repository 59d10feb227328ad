"""Replay buffers of a population as ``[N, capacity]`` stores of image indices.

In the block MDP an observation is one image of a fixed image tensor, so a transition is fully
described by two image indices, an action, a reward and a done flag. Storing those instead of
pixels takes 21 bytes a transition instead of 1,592 (two 784-byte MNIST images and the rest):
a 20,000-transition buffer drops from 31.8 MB to 0.42 MB per agent, which is what lets 128 agents
share one machine. The pixels are gathered from the shared image tensor at sample time; they are
the very values ``ReplayBuffer``'s 8-bit round trip gives back (images are k/255 at source).

Sampling draws, agent by agent, from that agent's own CPU generator with the call
``ReplayBuffer.sample`` makes (``torch.randint(size, (batch,))``), so agent ``n`` replays exactly
the transitions a run of its seed alone replays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from plastilab.agents.replay_buffer import Transitions


class IndexReplay:
    """N ring buffers of the same capacity, filled in lockstep (one transition per agent a step)."""

    def __init__(
        self,
        n_agents: int,
        capacity: int,
        images: torch.Tensor,
        generators: list[torch.Generator],
        *,
        device: str | torch.device = "cpu",
    ) -> None:
        if len(generators) != n_agents:
            raise ValueError(f"{n_agents} agents need {n_agents} sampling generators, found {len(generators)}")
        self.n = int(n_agents)
        self.capacity = int(capacity)
        self.images = images
        self.device = torch.device(device)
        self.generators = generators
        shape = (self.n, self.capacity)
        # int32 indices: an image set has far fewer than 2**31 images, and half the bytes of int64
        self.observations = torch.zeros(shape, dtype=torch.int32, device=self.device)
        self.next_observations = torch.zeros(shape, dtype=torch.int32, device=self.device)
        self.actions = torch.zeros(shape, dtype=torch.int32, device=self.device)
        self.rewards = torch.zeros(shape, dtype=torch.float32, device=self.device)
        self.dones = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.latent_states = torch.zeros(shape, dtype=torch.int32, device=self.device)
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def nbytes_per_agent(self) -> int:
        """The memory one agent's buffer takes."""
        stores = (self.observations, self.next_observations, self.actions, self.rewards, self.dones, self.latent_states)
        return sum(t.element_size() * t.numel() for t in stores) // self.n

    def add(self, obs: np.ndarray, next_obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, dones: np.ndarray, latent_states: np.ndarray) -> None:
        """One transition per agent (``[N]`` arrays: image indices, actions, rewards, flags)."""
        i = self.position
        row = torch.from_numpy(np.stack([obs, next_obs, actions, latent_states]).astype(np.int32)).to(self.device)
        self.observations[:, i], self.next_observations[:, i], self.actions[:, i], self.latent_states[:, i] = row
        self.rewards[:, i] = torch.from_numpy(np.asarray(rewards, dtype=np.float32)).to(self.device)
        self.dones[:, i] = torch.from_numpy(np.asarray(dones, dtype=bool)).to(self.device)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def draw(self, batch_size: int) -> torch.Tensor:
        """Every agent's ``batch_size`` slots, ``[N, batch]``, each from that agent's stream."""
        idx = torch.stack([torch.randint(self.size, (batch_size,), generator=g) for g in self.generators])
        return idx.to(self.device)

    def sample(self, batch_size: int) -> Transitions:
        """Every agent's batch at once: observations ``[N, B, C, H, W]``, the rest ``[N, B]``."""
        return self.gather(self.draw(batch_size))

    def gather(self, idx: torch.Tensor) -> Transitions:
        """The transitions in slots ``idx`` (``[N, B]``), pixels taken from the shared images."""
        return self._transitions(lambda store: store.gather(1, idx))

    def sample_agent(self, agent: int, batch_size: int, generator: torch.Generator) -> Transitions:
        """One agent's batch from ``generator`` (a measurement's own stream, not the training one)."""
        idx = torch.randint(self.size, (batch_size,), generator=generator).to(self.device)
        return self.gather_agent(agent, idx)

    def gather_agent(self, agent: int, idx: torch.Tensor) -> Transitions:
        """Agent ``agent``'s transitions in its slots ``idx``."""
        return self._transitions(lambda store: store[agent, idx])

    def _transitions(self, take: Callable[[torch.Tensor], torch.Tensor]) -> Transitions:
        """The transitions ``take`` picks out of every store, pixels looked up in the shared images."""
        return Transitions(
            self.images[take(self.observations).long()],
            take(self.actions).long(),
            take(self.rewards),
            self.images[take(self.next_observations).long()],
            take(self.dones).float(),
            take(self.latent_states).long(),
        )

    def agent_state_dict(self, agent: int) -> dict:
        """Agent ``agent``'s transitions so far, where the next goes, and its sampling stream."""
        n = self.size
        stores = {name: getattr(self, name)[agent, :n].clone() for name in STORES}
        return {**stores, "position": self.position, "size": n, "generator": self.generators[agent].get_state()}

    def load_agent_state_dict(self, agent: int, state: dict) -> None:
        n = int(state["size"])
        if n > self.capacity:
            raise ValueError(f"the saved buffer holds {n} transitions; this one has room for {self.capacity}")
        for name in STORES:
            getattr(self, name)[agent, :n].copy_(state[name])
        self.position, self.size = int(state["position"]), n
        self.generators[agent].set_state(state["generator"])


STORES = ("observations", "next_observations", "actions", "rewards", "dones", "latent_states")
