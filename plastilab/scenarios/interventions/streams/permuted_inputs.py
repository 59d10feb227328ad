"""Permuted MNIST (Dohare et al. 2024; Goodfellow et al. 2013): each iteration the same images
with a new fixed permutation of their pixel positions, and their true labels.

The permutation of iteration t comes from the series' task seed and t alone, so every
architecture and combination of a seed faces the same permutations; iteration 0 is permuted too
(LoP draws one for every task). A colour image's channels move together: positions are permuted.
"""

from __future__ import annotations

import torch

from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed


class PermutedInputs:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor, seed: int, n_classes: int, task: TaskConfig | None = None) -> None:
        self.images, self.labels, self.seed = images, labels, seed
        self.n_classes = n_classes

    def permutation(self, iteration: int) -> torch.Tensor:
        """Iteration ``iteration``'s order of the H·W pixel positions (on the CPU)."""
        positions = self.images[0, 0].numel()
        return torch.randperm(positions, generator=torch.Generator().manual_seed(derive_seed(self.seed, iteration)))

    def draw(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
        order = self.permutation(iteration).to(self.images.device)
        flat = self.images.flatten(2)  # (N, C, H·W)
        return flat[:, :, order].view_as(self.images), self.labels
