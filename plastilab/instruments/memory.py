"""The instruments' share of a scenario's memory estimate, from what each instrument declares.

Torch-free, like the declarations: ``plastilab validate`` and the lab's form call it at once.
"""

from __future__ import annotations

from typing import Any

from plastilab.core.memory_estimate import Part
from plastilab.instruments import registry


def instrument_parts(config: Any, parameters: int, n_in: int, width: int) -> list[Part]:
    """The copies and batches of every instrument switched on in ``config.instruments``, for a
    network of ``parameters`` weights whose input has ``n_in`` numbers and widest layer ``width``."""
    tables = getattr(config, "instruments", None)
    if tables is None:
        return []
    parts: list[Part] = []
    for name, cls in registry.memory_order().items():
        table = getattr(tables, name, None)
        if table is not None and table.every:
            parts.extend(cls.memory(table, parameters, n_in, width))
    return parts
