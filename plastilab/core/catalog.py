"""Finding scenario files: the built-in ones in the repository's scenarios/ folder, plus others."""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def builtin_scenario_dir() -> Path:
    """``$PLASTILAB_SCENARIOS`` if set, else the scenarios/ folder of the source checkout
    (editable install), else the copy a regular install put in ``<prefix>/share/plastilab``."""
    override = os.environ.get("PLASTILAB_SCENARIOS")
    if override:
        return Path(override)
    checkout = PACKAGE_ROOT / "scenarios"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "plastilab" / "scenarios"


@dataclass(frozen=True)
class CatalogEntry:
    """A scenario file's top-level keys, read without validating it (``plastilab list``)."""

    path: Path
    name: str
    kind: str
    description: str
    estimated_cpu_seconds: int | None


def list_scenarios(extra_dirs: list[Path] | None = None) -> list[CatalogEntry]:
    """Every readable scenario file in the built-in folder and ``extra_dirs``, by name.

    Reads only the top-level keys (no validation, no torch), so listing stays instant.
    """
    entries = []
    for folder in [builtin_scenario_dir(), *(extra_dirs or [])]:
        for path in sorted(Path(folder).glob("*.toml")):
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            estimate = raw.get("estimated_cpu_seconds")
            entries.append(
                CatalogEntry(
                    path=path,
                    name=str(raw.get("name", path.stem)),
                    kind=str(raw.get("kind", "?")),
                    description=str(raw.get("description", "")),
                    estimated_cpu_seconds=estimate if isinstance(estimate, int) else None,
                )
            )
    return entries


def format_rough_duration(seconds: float | None) -> str:
    """A rough length of time: ``45 s``, ``3 min``, ``2.5 h`` (an estimate, not a clock)."""
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
