"""The task sequence: each iteration draws new targets for the same inputs.

The targets depend only on the scenario seed, the series' seed index and the iteration, so
every architecture and intervention combination with the same seed faces the same tasks.
"""

from __future__ import annotations

import numpy as np
import torch

from plastilab.models.mlp import MLP
from plastilab.scenarios.interventions.schema import TaskConfig

# The random network whose outputs are regression targets.
TARGET_NETWORK_HIDDEN = (128, 128)


def derive_seed(*parts: int) -> int:
    """A well-mixed seed from several integers (a scenario seed, a seed index, an iteration)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


class TaskStream:
    def __init__(self, task: TaskConfig, x: torch.Tensor, seed: int) -> None:
        self.task = task
        self.x = x.detach().cpu()
        self.seed = seed

    def inputs(self, iteration: int, scenario_inputs: torch.Tensor) -> torch.Tensor:
        """Iteration ``iteration``'s inputs: the scenario's own, every iteration."""
        return scenario_inputs

    def targets(self, iteration: int) -> torch.Tensor:
        """Iteration ``iteration``'s targets for every input: int labels, or (N, n_outputs) floats."""
        seed = derive_seed(self.seed, iteration)
        if self.task.targets == "labels":
            generator = torch.Generator().manual_seed(seed)
            return torch.randint(0, self.task.n_classes, (len(self.x),), generator=generator)
        return self._regression_targets(seed)

    @torch.no_grad()
    def _regression_targets(self, seed: int) -> torch.Tensor:
        # A private RNG: drawing a target network must not move the training's random stream.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            network = MLP(self.x[0].numel(), TARGET_NETWORK_HIDDEN, self.task.n_outputs)
            y = network(self.x)
        # Standardised, so every iteration's task has the same scale and losses compare.
        y = (y - y.mean(0)) / y.std(0).clamp_min(1e-8)
        if self.task.frequency > 0:
            y = torch.sin(self.task.frequency * y)
        return y
