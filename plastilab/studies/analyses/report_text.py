"""Numbers as ``plastilab report`` prints them, for the analyses' report sections and the report."""

from __future__ import annotations

import math
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def interval(mean: Any, low: Any, high: Any) -> str:
    """A mean and the half-width of its interval: ``0.31 ± 0.04``."""
    if low is None or high is None:
        return fmt(mean)
    return f"{fmt(mean)} ± {fmt((high - low) / 2, 2)}"
