"""The Adam-instability scenario (paper §4): networks trained on a sequence of relabelled tasks,
one a variant of the optimiser, losing the ability to fit the next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plastilab.core.kind import SmokeRun, kind_in_package


def chance_classes(scenario: Mapping[str, Any]) -> int | None:
    """Its final loss is a cross-entropy over ``training.n_classes`` classes."""
    return scenario.get("training", {}).get("n_classes")


KIND = kind_in_package(
    __name__,
    "adam_instability",
    schema="AdamInstabilityConfig",
    runner="run_adam_instability",
    smoke=SmokeRun(
        "adam-tiny.toml",
        ("seeds=2", "training.n_tasks=2", "training.steps_per_task=30", "instruments={stats = {every = 30, n_examples = 32}}"),
    ),
    timing=SmokeRun("adam-quick.toml", ("training.n_tasks=1", "training.steps_per_task=1500"), goal="goal >= 5x"),
    chance_classes=chance_classes,
)
