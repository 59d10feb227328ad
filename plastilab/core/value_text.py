"""A setting's value as a study shows it: in its trials' names, its tables' axis columns and the
figures' colours (``[16,16]`` for a list, ``0.001`` for a float, strings bare)."""

from __future__ import annotations

from typing import Any


def show_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ",".join(show_value(v) for v in value) + "]"
    return repr(value) if not isinstance(value, float) else f"{value:g}"
