"""What a scenario runner is handed besides its config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunContext:
    device: str  # "cpu", "cuda" or "mps", already resolved
    seed: int
    source: str = "scenario"  # the scenario file, for error messages that name it
