"""What a series is trained to minimise, and the loss a user sees.

Both are the same except under two-hot: the network then outputs logits over bins for each
target, is trained by cross-entropy to the two-hot encoding, and the user sees the mean squared
error of the decoded prediction, so a two-hot series ranks against plain regression.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from plastilab.interventions.two_hot import TwoHot
from plastilab.interventions.settings import TwoHotConfig
from plastilab.scenarios.interventions.schema import TaskConfig


class Classification:
    trains_on_error = True  # the loss it trains on is the loss the user sees

    def __init__(self, n_classes: int) -> None:
        self.n_out = n_classes

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, y)

    error = loss

    def accuracy(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (output.argmax(1) == y).float().mean()


class Regression:
    trains_on_error = True

    def __init__(self, n_outputs: int) -> None:
        self.n_out = n_outputs

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, y)

    error = loss
    accuracy = None


class TwoHotRegression:
    trains_on_error = False

    def __init__(self, n_outputs: int, settings: TwoHotConfig) -> None:
        self.n_outputs = n_outputs
        self.codec = TwoHot(settings.low, settings.high, settings.n_bins)
        self.n_out = n_outputs * settings.n_bins

    def _logits(self, output: torch.Tensor) -> torch.Tensor:
        return output.view(len(output), self.n_outputs, self.codec.n_bins)

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.codec.loss(self._logits(output), y)

    def error(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self.codec.decode_logits(self._logits(output)), y)

    accuracy = None


def make_objective(task: TaskConfig, two_hot: TwoHotConfig | None, n_classes: int | None = None):
    """``n_classes``: the task stream's classes when it is a classification (None: regression)."""
    if task.targets == "labels" or n_classes is not None:
        return Classification(n_classes or task.n_classes)
    if two_hot is not None:
        return TwoHotRegression(task.n_outputs, two_hot)
    return Regression(task.n_outputs)
