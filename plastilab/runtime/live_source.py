"""The live source: a dashboard's events from the training child the app started (its queue).
Replays of run folders on disk are ``runtime/replay_sources.py``.

A source answers ``poll(timeout) -> list[Event]`` and ``done``; the app's reader worker calls
``poll`` in a thread and posts what it gets. No Textual in here.
"""

from __future__ import annotations

from plastilab.core.events import Event, RunFailed, RunInterrupted
from plastilab.rundir.state import is_end_event, record_end_for_dead_writer
from plastilab.runtime.training_process import TrainingProcess


class LiveSource:
    live = True
    follows = False

    def __init__(self, process: TrainingProcess) -> None:
        self.process = process
        self.done = False

    def poll(self, timeout: float) -> list[Event]:
        if self.done:
            return []
        events = self.process.poll(timeout)
        if not events and self.process.died:
            events = self.process.poll(0)  # whatever was still in the pipe
            if not self.process.ended:
                reason = self.process.death_reason()
                if self.process.stop_requested:
                    # The user asked it to stop and it had to be killed: a stop, not a failure.
                    if self.process.run_dir:
                        record_end_for_dead_writer(self.process.run_dir, "interrupted", f"stopped by the user; {reason}", self.process.last_step)
                    events.append(RunInterrupted(self.process.last_step))
                else:
                    if self.process.run_dir:
                        record_end_for_dead_writer(self.process.run_dir, "failed", reason, self.process.last_step)
                    events.append(RunFailed(self.process.last_step, reason))
        if self.process.ended and not events:
            self.done = True
        elif any(is_end_event(e) for e in events):
            self.done = True
        return events
