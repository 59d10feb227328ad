"""A session: one dashboard's source of events and the state folded from them."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from plastilab.runtime.run_state import RunState
from plastilab.runtime.live_source import LiveSource
from plastilab.runtime.replay_sources import CompareSource, FolderSource
from plastilab.runtime.training_process import LaunchRequest, TrainingProcess

_ids = itertools.count(1)


@dataclass
class Session:
    source: LiveSource | FolderSource | CompareSource
    state: RunState
    title: str
    request: LaunchRequest | None = None  # how to run it again (restart)
    process: TrainingProcess | None = None
    folder: Path | None = None  # the run folder a replay or watch reads
    id: int = field(default_factory=lambda: next(_ids))
    ack: threading.Event = field(default_factory=threading.Event)  # the app took the last batch

    @property
    def is_live(self) -> bool:
        """A training process of this app runs it (pause, stop and restart apply)."""
        return self.process is not None

    def relaunch_request(self) -> LaunchRequest | None:
        if self.request is not None:
            # Running a resumed run again starts it afresh (its folder is finished or in use).
            return LaunchRequest(self.request.scenario_path, self.request.overrides, self.request.device)
        if self.folder is not None and (self.folder / "scenario.toml").is_file():
            return LaunchRequest(self.folder / "scenario.toml", [], None)
        return None
