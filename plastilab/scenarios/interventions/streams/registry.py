"""Which class makes each stream kind, and the check that the loaded images can feed it."""

from __future__ import annotations

import torch

from plastilab.core.errors import DatasetError
from plastilab.scenarios.interventions.schema import TaskConfig
from plastilab.scenarios.interventions.streams.binary_pairs import BinaryPairs
from plastilab.scenarios.interventions.streams.class_incremental import ClassIncremental
from plastilab.scenarios.interventions.streams.options import DATASET_CLASSES
from plastilab.scenarios.interventions.streams.permuted_inputs import PermutedInputs

# Each takes (images, labels, task seed, the dataset's classes, the [task] table).
STREAMS = {"permuted_inputs": PermutedInputs, "class_incremental": ClassIncremental, "binary_pairs": BinaryPairs}
PICKS_BY_CLASS = ("class_incremental", "binary_pairs")


def make_stream(task: TaskConfig, images: torch.Tensor, labels: torch.Tensor, seed: int, dataset: str, source: str = "scenario"):
    n_classes = DATASET_CLASSES.get(dataset, int(labels.max()) + 1)
    if task.targets in PICKS_BY_CLASS:  # every class may be drawn, so the images must hold each
        missing = sorted(set(range(n_classes)) - set(labels.unique().tolist()))
        if missing:
            raise DatasetError(
                f"{source}: data.n_images: found {len(labels)}; these images hold no example of class {missing[0]}, "
                f"which task.targets = {task.targets!r} draws from: raise it"
            )
    return STREAMS[task.targets](images, labels, seed, n_classes, task)
