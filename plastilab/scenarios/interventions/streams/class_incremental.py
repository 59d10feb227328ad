"""Class-incremental learning (LoP's incremental CIFAR-100, on the scenario's images): the classes
arrive in a seeded order, ``initial_classes`` at first and ``classes_added`` more every
``add_every`` iterations; each iteration's task is every image of the classes seen so far, with
their true labels. The network has one output per class of the dataset from the start (LoP masks
the unseen outputs instead; here they are trained towards never being chosen), so loss and
accuracy are over the classes seen so far.
"""

from __future__ import annotations

import torch

from plastilab.scenarios.interventions.streams.options import ClassIncrementalOptions
from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed


class ClassIncremental:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, seed: int, n_classes: int, task: TaskConfig | None = None) -> None:
        self.images, self.labels = images, labels
        self.options = task.class_incremental if task is not None else ClassIncrementalOptions()
        self.n_classes = n_classes
        # One order for the whole stream: the classes of the first task come first.
        self.order = torch.randperm(n_classes, generator=torch.Generator().manual_seed(derive_seed(seed, 2)))

    def classes(self, iteration: int) -> torch.Tensor:
        """The classes seen by iteration ``iteration``, in the order they arrived."""
        return self.order[: min(self.options.classes_at(iteration), self.n_classes)]

    def draw(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
        seen = torch.isin(self.labels, self.classes(iteration).to(self.labels.device))
        return self.images[seen], self.labels[seen]
