"""Scalars as JSON: NaN and inf become ``null`` plus a flag, so no value is silently lost."""

from __future__ import annotations

import math
from typing import Any


def scalar_record(step: int, series: str, tag: str, value: float, wall_time: float) -> dict[str, Any]:
    record: dict[str, Any] = {"step": step, "series": series, "tag": tag, "value": value, "wall_time": round(wall_time, 3)}
    if not math.isfinite(value):
        record["value"] = None
        record["nonfinite"] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return record


def record_value(record: dict[str, Any]) -> float:
    """The float a metrics line stands for, NaN/inf restored from the flag."""
    value = record.get("value")
    if value is None:
        flag = record.get("nonfinite", "nan")
        return float(flag) if flag in ("nan", "inf", "-inf") else math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # a damaged line: no number
        return math.nan
