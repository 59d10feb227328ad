"""The task sequence: each iteration draws new targets for the same inputs.

The targets depend only on the scenario seed, the series' seed index and the iteration, so
every architecture and intervention combination with the same seed faces the same tasks.
"""

from __future__ import annotations

import torch

from plastilab.models.mlp import MLP
from plastilab.scenarios.common import load_scenario_images
from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.options import STREAM_KINDS
from plastilab.scenarios.interventions.streams.registry import make_stream
from plastilab.scenarios.interventions.streams.slowly_changing_regression import SlowlyChangingRegression, reference_inputs
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed

# The random network whose outputs are regression targets.
TARGET_NETWORK_HIDDEN = (128, 128)


class TaskStream:
    def __init__(self, task: TaskConfig, x: torch.Tensor, seed: int) -> None:
        self.task = task
        self.x = x.detach().cpu()
        self.seed = seed
        self.n_classes = task.n_classes if task.targets == "labels" else None  # None: not a classification

    def draw(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Iteration ``iteration``'s inputs (always the same here) and targets."""
        return self.x, self.targets(iteration)

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


def make_task_stream(task: TaskConfig, x: torch.Tensor, labels: torch.Tensor, seed: int, dataset: str, source: str = "scenario"):
    """The stream of ``task.targets``: new targets for the same inputs here, or one of streams/."""
    if task.targets == "slowly_changing_regression":  # its own inputs: ``x`` is its reference bits
        return SlowlyChangingRegression(task.slowly_changing_regression, seed)
    if task.targets in STREAM_KINDS:
        return make_stream(task, x, labels, seed, dataset, source)
    return TaskStream(task, x, seed)


def scenario_inputs(config, ctx, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The inputs a series of ``seed`` is built for and the instruments measure on, with their
    class labels: the scenario's images, or a stream's own reference inputs (no labels). On the CPU."""
    if config.task.targets == "slowly_changing_regression":
        return reference_inputs(config.task.slowly_changing_regression, seed), None
    return load_scenario_images(config, ctx, seed)
