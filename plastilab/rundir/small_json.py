"""A run folder's small JSON files (status, meta, summary), read defensively, and the value
shapes their readers rely on.

Below both ``state`` (status.json) and ``reader`` (meta.json, summary.json), so the one module
that decides a run's state needs nothing from the reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plastilab.core.safe_text import shown
from plastilab.rundir.safe_files import read_small

MAX_JSON_FILE_BYTES = 16 << 20  # status, meta, summary: kilobytes when sane


def read_json(path: str | Path) -> dict[str, Any] | None:
    """A small JSON file holding an object; None if missing, not a regular file, too big, or
    not a JSON object."""
    data = read_small(path, MAX_JSON_FILE_BYTES)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def whole_number(value: Any, default: int = 0) -> int:
    """``value`` if it is an int in [0, 2**63) (not a bool), else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else default


def printable(value: Any, default: str, limit: int = 200) -> str:
    """A non-empty string made printable and cut to ``limit``, else ``default``."""
    return shown(value, limit) if isinstance(value, str) and value else default
