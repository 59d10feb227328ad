"""The status panel: state, step, speed, ETA, elapsed time, device — and why a run failed."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from plastilab.core.safe_text import shown
from plastilab.runtime.run_state import RunState, format_clock
from plastilab.tui.widgets.pane import PaneView

STATE_STYLES = {
    "waiting": "dim",
    "running": "bold green",
    "paused": "bold yellow",
    "stopping": "bold yellow",
    "finished": "bold cyan",
    "interrupted": "bold yellow",
    "failed": "bold red",
    "abandoned": "dim",
}


class StatusPanel(Static):
    plain = ""  # the panel as text, for tests

    def draw(self, state: RunState, view: PaneView) -> str:
        """State, step, speed, ETA, elapsed, device, folder, why it failed; the caption is the state."""
        now = view.now
        rows: list[tuple[str, str | Text]] = [("state", Text("● " + state.state, style=STATE_STYLES.get(state.state, "")))]
        step = f"{state.step():,}"
        if state.total_steps:
            step += f" / {state.total_steps:,}"
        rows.append(("step", step))
        if state.tasks:
            rows.append(("task", str(state.tasks)))
        rate = state.steps_per_second()
        rows.append(("speed", "–" if rate is None else f"{rate:,.1f} steps/s"))
        rows.append(("ETA", format_clock(state.eta_seconds())))
        rows.append(("elapsed", format_clock(state.elapsed_seconds(now))))
        rows.append(("device", Text(state.device)))  # Text: a table reads str cells as markup
        if state.run_dir:
            path = Path(state.run_dir)
            rows.append(("folder", Text(shown(f"{path.parent.name}/{path.name}"))))
        if state.error:
            rows.append(("why", Text(state.error, style="red")))
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in rows:
            table.add_row(label, value)
        self.plain = "\n".join(f"{label} {value}" for label, value in rows)
        self.update(table, layout=False)  # a fixed-size panel: no need to lay the screen out again
        return state.state
