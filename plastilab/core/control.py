"""How a face asks a running scenario to pause, resume or stop.

Backed by two event objects with ``is_set``/``set``/``clear``/``wait``: ``threading.Event`` in
one process, ``multiprocessing.Event`` across the TUI's spawn boundary.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunControl:
    stop: Any = field(default_factory=threading.Event)
    pause: Any = field(default_factory=threading.Event)

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def wait_while_paused(self) -> None:
        while self.pause.is_set() and not self.stop.is_set():
            self.stop.wait(0.1)
