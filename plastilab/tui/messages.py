"""The messages the lab's parts send each other: the only door between workers, screens and app.
(Textual's messages may be dataclasses: its ``Message.__post_init__`` sets a message up.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from plastilab.core.events import Event
from plastilab.runtime.training_process import LaunchRequest


@dataclass
class EventsArrived(Message):
    """A batch of events for one session, posted by its reader worker (a thread)."""

    session_id: int
    events: list[Event]


@dataclass
class SourceFinished(Message):
    """A session's source will send nothing more (the run ended, or its process is gone)."""

    session_id: int


@dataclass
class LaunchRequested(Message):
    """The picker asks the app to start a run."""

    request: LaunchRequest


@dataclass
class OpenRunRequested(Message):
    """The runs screen asks the app to open a past run (or several, overlaid) in the dashboard."""

    run_dirs: list[Path]


@dataclass
class RelaunchRequested(Message):
    """Run a past run's resolved scenario again, as a new live run."""

    run_dir: Path
