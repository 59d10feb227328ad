"""Checks that run before a run folder exists, so bad input leaves nothing half-made behind."""

from __future__ import annotations

import os

from plastilab.core.device import resolve_device
from plastilab.core.errors import ScenarioError
from plastilab.core.memory_estimate import available_bytes, estimate, format_bytes, total
from plastilab.core.scenario_file import Scenario
from plastilab.data.datasets import load_images

# Set by ``plastilab run --no-memory-check`` (and inherited by the lab's training child), for
# those who know their machine better than the estimate does.
NO_MEMORY_CHECK_ENV = "PLASTILAB_NO_MEMORY_CHECK"


def preflight(scenario: Scenario) -> str:
    """Resolve the device, run the kind's ``preflight_check(source)`` if it has one (e.g. an
    optional extra is installed), check the run fits in memory, make sure the dataset can be
    read; return the device.

    Raises a one-line ``PlastilabError`` (device, size or dataset) naming the file and the key.
    """
    config = scenario.config
    source = str(scenario.path) if scenario.path else config.name
    device = resolve_device(config.device, source)
    check = getattr(config, "preflight_check", None)  # a kind's own check, e.g. an optional extra
    if check is not None:
        check(source)
    if not os.environ.get(NO_MEMORY_CHECK_ENV):
        check_memory(scenario, device)
    data = getattr(config, "data", None)
    if data is not None and hasattr(data, "dataset"):
        load_images(data.dataset, data.n_images, config.seed, data.data_dir, data.download, source=source)
    return device


def check_memory(scenario: Scenario, device: str, limit: int | None = None) -> None:
    """Refuse a scenario whose estimated memory exceeds ``limit`` (default: what ``device`` has
    free), naming the key that costs most, the estimate and the limit."""
    parts = estimate(scenario.config)
    if not parts:
        return
    what = "memory"
    if limit is None:
        limit, what = available_bytes(device)
        if limit is None:
            return
    needed = total(parts)
    if needed <= limit:
        return
    source = str(scenario.path) if scenario.path else scenario.config.name
    top = parts[0]
    raise ScenarioError(
        f"{source}: {top.key}: the run needs about {format_bytes(needed)} ({top.what}: {format_bytes(top.bytes)}); "
        f"{what} is {format_bytes(limit)}; make {top.key} smaller, or pass --no-memory-check"
    )
