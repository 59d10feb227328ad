"""Checks that run before a run folder exists, so bad input leaves nothing half-made behind."""

from __future__ import annotations

from plastilab.core.device import resolve_device
from plastilab.core.scenario_file import Scenario


def preflight(scenario: Scenario) -> str:
    """Resolve the device, run the kind's ``preflight_check(source)`` if it has one, and make
    sure the dataset can be read; return the device.

    Raises a one-line ``PlastilabError`` (device or dataset) naming the file and the key.
    """
    config = scenario.config
    source = str(scenario.path) if scenario.path else config.name
    device = resolve_device(config.device, source)
    check = getattr(config, "preflight_check", None)  # a kind's own check, e.g. an optional extra
    if check is not None:
        check(source)
    data = getattr(config, "data", None)
    if data is not None and hasattr(data, "dataset"):
        from plastilab.data.datasets import load_images

        load_images(data.dataset, data.n_images, config.seed, data.data_dir, data.download, source=source)
    return device
