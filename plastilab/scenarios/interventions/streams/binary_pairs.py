"""Binary pairs (LoP's continual ImageNet, on the scenario's images): each iteration a fresh pair
of classes drawn from the series' task seed and the iteration, the images of those two classes
only, labelled 0 (the first of the pair) and 1 (the second). LoP zeroes the output layer at each
new task (``new_heads``); the nearest here is the ``reset_last_layer`` intervention, which redraws
it instead, and is not part of the stream.
"""

from __future__ import annotations

import torch

from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed


class BinaryPairs:
    n_classes = 2

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, seed: int, n_classes: int, task: TaskConfig | None = None) -> None:
        self.images, self.labels, self.seed = images, labels, seed
        self.dataset_classes = n_classes

    def pair(self, iteration: int) -> tuple[int, int]:
        drawn = torch.randperm(self.dataset_classes, generator=torch.Generator().manual_seed(derive_seed(self.seed, iteration)))
        return int(drawn[0]), int(drawn[1])

    def draw(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = self.pair(iteration)
        chosen = (self.labels == first) | (self.labels == second)
        return self.images[chosen], (self.labels[chosen] == second).long()
