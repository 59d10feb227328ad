"""The streams' options in a scenario file and the checks that need the ``[data]`` table too.
Pydantic only: the schema imports this module, and ``plastilab validate`` must not pay for torch."""

from __future__ import annotations

from pydantic import Field

from plastilab.core.schema import Strict

STREAM_KINDS = ("permuted_inputs", "class_incremental", "binary_pairs")
# Classes of each dataset ``[data]`` names (all four are ten-class sets).
DATASET_CLASSES = {"mnist-5k": 10, "mnist": 10, "fashion-mnist": 10, "cifar10": 10}


class ClassIncrementalOptions(Strict):
    """Start with ``initial_classes`` classes (a seeded order of the dataset's classes), add
    ``classes_added`` every ``add_every`` iterations; each iteration's task is every image of the
    classes seen so far (LoP's incremental CIFAR-100: 5, 5, every 200 epochs)."""

    initial_classes: int = Field(default=2, ge=1)
    classes_added: int = Field(default=2, ge=1)
    add_every: int = Field(default=5, ge=1)

    def classes_at(self, iteration: int) -> int:
        return self.initial_classes + self.classes_added * (iteration // self.add_every)


def stream_problem(targets: str, options: ClassIncrementalOptions, n_iterations: int, dataset: str) -> tuple[tuple, object, str] | None:
    """(key, found, allowed) of the first option that does not fit the dataset, or None."""
    n_classes = DATASET_CLASSES.get(dataset, 10)
    if targets == "binary_pairs" and n_classes < 2:
        return ("data", "dataset"), dataset, "a dataset with at least 2 classes, since binary_pairs pairs two"
    if targets == "class_incremental":
        last = options.classes_at(n_iterations - 1)
        if last > n_classes:
            return (
                ("task", "class_incremental", "classes_added"),
                options.classes_added,
                f"initial_classes + classes_added·⌊(n_iterations−1)/add_every⌋ ≤ {n_classes} ({dataset}'s classes); "
                f"it reaches {last}: add fewer classes, less often, or run fewer iterations",
            )
    return None
