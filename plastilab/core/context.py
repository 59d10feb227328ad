"""What a scenario runner is handed besides its config."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RunContext:
    device: str  # "cpu", "cuda" or "mps", already resolved
    seed: int

    @staticmethod
    def now() -> float:
        return time.time()
