"""The interventions scenario (paper §5.2): which changes keep a network able to fit the next task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plastilab.core.kind import SmokeRun, kind_in_package


def chance_classes(scenario: Mapping[str, Any]) -> int | None:
    """Its final loss is a cross-entropy over classes only when the targets are labels."""
    task = scenario.get("task", {})
    return task.get("n_classes") if task.get("targets") == "labels" else None


KIND = kind_in_package(
    __name__,
    "interventions",
    schema="InterventionsConfig",
    runner="run_interventions",
    smoke=SmokeRun(
        "interventions-quick.toml",
        (
            "data.n_images=32", "task.n_iterations=3", "task.steps_per_iteration=4", "training.batch_size=8",
            "training.log_every=2", 'grid.interventions=["none", "reset_last_layer"]', "grid.n_seeds=2",
            "models.mlp.hidden=[16, 16]", "ranking.window=1",
        ),
    ),
    timing=SmokeRun("interventions-quick.toml", ("task.n_iterations=2", "task.steps_per_iteration=300")),
    chance_classes=chance_classes,
)
