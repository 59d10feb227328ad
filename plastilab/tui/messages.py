"""The messages the lab's parts send each other: the only door between workers, screens and app."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from plastilab.core.events import Event
from plastilab.runtime.training_process import LaunchRequest


class EventsArrived(Message):
    """A batch of events for one session, posted by its reader worker (a thread)."""

    def __init__(self, session_id: int, events: list[Event]) -> None:
        super().__init__()
        self.session_id = session_id
        self.events = events


class SourceFinished(Message):
    """A session's source will send nothing more (the run ended, or its process is gone)."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


class LaunchRequested(Message):
    """The picker asks the app to start a run."""

    def __init__(self, request: LaunchRequest) -> None:
        super().__init__()
        self.request = request


class OpenRunRequested(Message):
    """The runs screen asks the app to open a past run (or several, overlaid) in the dashboard."""

    def __init__(self, run_dirs: list[Path]) -> None:
        super().__init__()
        self.run_dirs = run_dirs


class RelaunchRequested(Message):
    """Run a past run's resolved scenario again, as a new live run."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir
