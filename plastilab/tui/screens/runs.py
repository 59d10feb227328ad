"""Past runs from the runs folder: open one in the dashboard, overlay two, or run one again."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from plastilab.core.safe_text import shown
from plastilab.tui.messages import OpenRunRequested, RelaunchRequested
from plastilab.rundir.index import list_runs
from plastilab.tui.widgets.runs_table import RunsTable


class RunsScreen(Screen):
    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("r", "rerun", "Rerun"),
        Binding("g", "refresh", "Refresh"),
        Binding("escape", "back", "Back"),
        Binding("d", "app.toggle_theme", "Theme"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunsTable(id="runs-table")
        yield Static(id="run-details")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = f"past runs in {self.app.runs_root.name}/"
        self.query_one("#runs-table").border_title = "runs (space marks two to compare)"
        self.query_one("#run-details").border_title = "run"
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(RunsTable)
        table.load(list_runs(self.app.runs_root))
        if not table.runs:
            self.query_one("#run-details", Static).update(f"No runs yet in {self.app.runs_root}. Launch a scenario from the picker.")
        table.focus()
        self._show_details()

    @on(DataTable.RowHighlighted)
    def _show_details(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is None:
            return
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("folder", Text(shown(_shown_path(run.path, self.app.runs_root))))  # Text: no markup
        if run.finals:
            grid.add_row("final loss", Text("  ".join(f"{k} {'–' if v is None else f'{v:.3f}'}" for k, v in run.finals.items())))
        if run.error:
            grid.add_row("why", Text(run.error, style="red"))
        self.query_one("#run-details", Static).update(grid)

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None:
            self.post_message(OpenRunRequested([run.path]))

    def action_mark(self) -> None:
        self.query_one(RunsTable).toggle_mark()

    def action_compare(self) -> None:
        table = self.query_one(RunsTable)
        paths = table.marked_paths()
        current = table.current()
        if len(paths) == 1 and current is not None and current.path not in paths:
            paths.append(current.path)
        if len(paths) < 2:
            self.notify("Mark two runs with space, then press c", severity="warning")
            return
        self.post_message(OpenRunRequested(paths[:2]))

    def action_rerun(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None:
            self.post_message(RelaunchRequested(run.path))

    def action_back(self) -> None:
        self.app.pop_screen()


def _shown_path(path, root) -> str:
    """The run folder relative to the runs root (short, and the same on every machine)."""
    try:
        return f"{root.name}/{path.relative_to(root)}"
    except ValueError:
        return str(path)
