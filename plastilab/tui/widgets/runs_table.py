"""The runs list: scenario, date, state, steps and final losses, with marks for comparing."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from plastilab.studies.listing import RunInfo
from plastilab.tui.widgets.status_panel import STATE_STYLES

MARK = "◆"


class RunsTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open")]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.runs: dict[str, RunInfo] = {}
        self.marked: list[str] = []  # at most two, oldest first

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        self.add_column("scenario", key="scenario")
        self.add_column("started", key="started")
        self.add_column("state", key="state")
        self.add_column("step", key="step")
        self.add_column("final loss per series", key="finals")

    def load(self, runs: list[RunInfo]) -> None:
        """Show ``runs``; the cursor stays on the run it was on."""
        current = self.current()
        self.clear()
        self.runs = {str(run.path): run for run in runs}
        self.marked = [key for key in self.marked if key in self.runs]
        for key, run in self.runs.items():
            self.add_row(
                MARK if key in self.marked else "",
                Text(run.scenario),  # Text, not str: a DataTable reads str cells as markup
                Text(run.started),
                Text(run.state, style=STATE_STYLES.get(run.state, "dim")),
                f"{run.last_step:,}" if run.kind == "run" else "",
                Text(run.finals_text()),
                key=key,
            )
        if current is not None and str(current.path) in self.runs:
            self.move_cursor(row=self.get_row_index(str(current.path)), animate=False)

    def current(self) -> RunInfo | None:
        if not self.runs or self.cursor_row < 0:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return self.runs.get(key)

    def toggle_mark(self) -> None:
        run = self.current()
        if run is None:
            return
        key = str(run.path)
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
            if len(self.marked) > 2:
                dropped = self.marked.pop(0)
                self.update_cell(dropped, "mark", "")
        self.update_cell(key, "mark", MARK if key in self.marked else "")

    def marked_paths(self) -> list[Path]:
        return [Path(key) for key in self.marked]
