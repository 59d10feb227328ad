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

    def _encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.mul(255.0).round_().to(torch.uint8) if self.uint8 else obs

    def _decode(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.to(torch.float32).div_(255.0) if self.uint8 else stored
