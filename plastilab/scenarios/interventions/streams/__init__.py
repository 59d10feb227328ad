"""Task streams that bring their own inputs, beside ``tasks.TaskStream`` (new targets for the
scenario's images). A stream gives each iteration's ``inputs`` and ``targets``; the runner
draws its mini-batches from them.
"""

from __future__ import annotations

import torch

from plastilab.core.context import RunContext
from plastilab.scenarios.common import load_scenario_images
from plastilab.scenarios.interventions.schema import InterventionsConfig, TaskConfig
from plastilab.scenarios.interventions.streams.slowly_changing_regression import SlowlyChangingRegression, reference_inputs
from plastilab.scenarios.interventions.tasks import TaskStream


def scenario_inputs(config: InterventionsConfig, ctx: RunContext, seed: int) -> torch.Tensor:
    """The inputs a series of ``seed`` is built for, scores units on and the instruments use:
    the scenario's images, or a stream's own reference inputs. On the CPU."""
    if config.task.targets == "slowly_changing_regression":
        return reference_inputs(config.task.slowly_changing_regression, seed)
    return load_scenario_images(config, ctx, seed)[0]


def make_task_stream(task: TaskConfig, x: torch.Tensor, seed: int):
    if task.targets == "slowly_changing_regression":
        return SlowlyChangingRegression(task.slowly_changing_regression, seed)
    return TaskStream(task, x, seed)
