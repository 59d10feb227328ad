"""The status panel: state, step, speed, ETA, elapsed time, device — and why a run failed."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from plastilab.tui.run_state import RunState, format_duration

STATE_STYLES = {
    "waiting": "dim",
    "running": "bold green",
    "paused": "bold yellow",
    "stopping": "bold yellow",
    "finished": "bold cyan",
    "interrupted": "bold yellow",
    "failed": "bold red",
}


class StatusPanel(Static):
    def show(self, state: RunState, now: float | None = None) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("state", Text("● " + state.state, style=STATE_STYLES.get(state.state, "")))
        step = f"{state.step():,}"
        if state.total_steps:
            step += f" / {state.total_steps:,}"
        table.add_row("step", step)
        if state.tasks:
            table.add_row("task", str(state.tasks))
        rate = state.steps_per_second()
        table.add_row("speed", "–" if rate is None else f"{rate:,.1f} steps/s")
        table.add_row("ETA", format_duration(state.eta_seconds()))
        table.add_row("elapsed", format_duration(state.elapsed_seconds(now)))
        table.add_row("device", state.device)
        if state.run_dir:
            path = Path(state.run_dir)
            table.add_row("folder", f"{path.parent.name}/{path.name}")
        if state.error:
            table.add_row("why", Text(state.error, style="red"))
        self.update(table)
