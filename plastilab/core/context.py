"""What a scenario runner is handed besides its config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plastilab.runtime.checkpoint_save import Checkpoints


@dataclass(frozen=True)
class RunContext:
    device: str  # "cpu", "cuda" or "mps", already resolved
    seed: int
    source: str = "scenario"  # the scenario file, for error messages that name it
    checkpoints: Checkpoints | None = None  # checkpoint_every > 0: where to save, and what to resume
