"""A fixed-size replay buffer of transitions, sampled uniformly (as in DQN)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Transitions(NamedTuple):
    observations: torch.Tensor  # (B, *obs_shape) float
    actions: torch.Tensor  # (B,) int64
    rewards: torch.Tensor  # (B,) float
    next_observations: torch.Tensor  # (B, *obs_shape) float
    dones: torch.Tensor  # (B,) float: 1 where the episode terminated (not merely truncated)
    latent_states: torch.Tensor  # (B,) int64: for measurements ordered by class, never for learning


class ReplayBuffer:
    """A ring buffer on ``device``; the oldest transition is overwritten once ``capacity`` is full.

    Observations are 8-bit images at source (pixel / 255), so with ``uint8=True`` they are stored
    as bytes and scaled back on sampling: lossless, and a quarter of the memory of float32, which
    is what lets a 1M-transition buffer of CIFAR images fit on one GPU.
    """

    def __init__(
        self,
        capacity: int,
        observation_shape: tuple[int, ...],
        *,
        device: str | torch.device = "cpu",
        uint8: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        self.capacity = int(capacity)
        self.device = torch.device(device)
        self.uint8 = uint8
        dtype = torch.uint8 if uint8 else torch.float32
        self.observations = torch.zeros((capacity, *observation_shape), dtype=dtype, device=self.device)
        self.next_observations = torch.zeros_like(self.observations)
        self.actions = torch.zeros(capacity, dtype=torch.int64, device=self.device)
        self.rewards = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.dones = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.latent_states = torch.zeros(capacity, dtype=torch.int64, device=self.device)
        self.generator = generator  # sampling draws only from this stream (a CPU generator)
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: torch.Tensor, next_obs: torch.Tensor, action: int, reward: float, done: bool, latent_state: int) -> None:
        i = self.position
        self.observations[i] = self._encode(obs)
        self.next_observations[i] = self._encode(next_obs)
        self.actions[i] = action
        self.rewards[i] = reward
        self.dones[i] = float(done)
        self.latent_states[i] = latent_state
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> Transitions:
        """``batch_size`` transitions drawn uniformly with replacement; ``generator`` lets a
        measurement draw its own batch without moving the training stream."""
        idx = torch.randint(self.size, (batch_size,), generator=generator or self.generator)
        if self.device.type == "cuda":  # drawn on the CPU (the same stream on every device); no host wait
            idx = idx.pin_memory().to(self.device, non_blocking=True)
        return Transitions(
            self._decode(self.observations[idx]),
            self.actions[idx],
            self.rewards[idx],
            self._decode(self.next_observations[idx]),
            self.dones[idx],
            self.latent_states[idx],
        )

    def state_dict(self) -> dict:
        """The transitions stored so far (not the empty rest), where the next one goes, and the
        sampling stream: what a checkpoint keeps."""
        n = self.size
        return {
            "observations": self.observations[:n].clone(),
            "next_observations": self.next_observations[:n].clone(),
            "actions": self.actions[:n].clone(),
            "rewards": self.rewards[:n].clone(),
            "dones": self.dones[:n].clone(),
            "latent_states": self.latent_states[:n].clone(),
            "position": self.position,
            "size": self.size,
            "generator": self.generator.get_state() if self.generator is not None else None,
        }

    def load_state_dict(self, state: dict) -> None:
        n = int(state["size"])
        if n > self.capacity:
            raise ValueError(f"the saved buffer holds {n} transitions; this one has room for {self.capacity}")
        for name in ("observations", "next_observations", "actions", "rewards", "dones", "latent_states"):
            getattr(self, name)[:n].copy_(state[name])
        self.position, self.size = int(state["position"]), n
        if state["generator"] is not None and self.generator is not None:
            self.generator.set_state(state["generator"])

    def _encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.mul(255.0).round_().to(torch.uint8) if self.uint8 else obs

    def _decode(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.to(torch.float32).div_(255.0) if self.uint8 else stored
