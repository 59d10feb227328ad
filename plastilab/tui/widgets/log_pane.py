"""Warnings and errors the run reported, and what the lab itself has to say."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.pane import PaneView

LEVEL_STYLES = {"info": "", "warning": "yellow", "error": "bold red"}


class LogPane(RichLog):
    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, max_lines=500, **kwargs)
        self._seen = 0

    def draw(self, state: RunState, view: PaneView) -> str:
        """Write the lines logged since the last draw; the caption counts warnings and errors."""
        new = state.log_total - self._seen
        if new > 0:
            self._seen = state.log_total
            for line in list(state.logs)[-new:]:
                where = f"[{line.step}] " if line.step is not None else ""
                self.write(Text(f"{line.level:<7} {where}{line.message}", style=LEVEL_STYLES.get(line.level, "")))
        alarms = sum(line.level != "info" for line in state.logs)
        return f"{alarms} warnings or errors" if alarms else ""
