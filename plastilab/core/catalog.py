"""Finding scenario files: the built-in ones in the repository's scenarios/ folder, plus others."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.core.safe_text import shown
from plastilab.core.scenario_toml import read_scenario_toml

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

    Reads only the top-level keys (no validation, no torch), so listing stays instant. A file
    that cannot be read (not TOML, too deep, a pipe) is left out; ``validate`` says why. Names
    and descriptions come back as printable text (``shown``): a file cannot clear a screen.
    """
    entries = []
    for folder in [builtin_scenario_dir(), *(extra_dirs or [])]:
        try:
            paths = sorted(Path(folder).glob("*.toml"))
        except OSError:
            continue
        for path in paths:
            try:
                raw = read_scenario_toml(path)
            except ScenarioError:
                continue
            estimate = raw.get("estimated_cpu_seconds")
            entries.append(
                CatalogEntry(
                    path=path,
                    name=shown(raw.get("name", path.stem), 80),
                    kind=shown(raw.get("kind", "?"), 40),
                    description=shown(raw.get("description", ""), 300),
                    estimated_cpu_seconds=estimate if isinstance(estimate, int) and not isinstance(estimate, bool) and 0 <= estimate < 10**9 else None,
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
