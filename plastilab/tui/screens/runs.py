"""Past runs from the runs folder: open one in the dashboard, overlay two, run one again, or
resume an interrupted or abandoned one from its checkpoint (``checkpoint_every``).

In a read-only app (the classroom's viewer) this is the first screen: it refreshes itself as runs
appear and change state, opens a running one as a followed dashboard, and offers no rerun.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from plastilab.core.safe_text import shown
from plastilab.tui.messages import LaunchRequested, OpenRunRequested, RelaunchRequested
from plastilab.studies.listing import list_runs
from plastilab.runtime.resume import RESUMABLE_STATES, why_not_resumable
from plastilab.runtime.training_process import LaunchRequest
from plastilab.tui.keys import BACK, THEME
from plastilab.tui.study_sessions import open_study_view
from plastilab.tui.widgets.runs_table import RunsTable

REFRESH_PERIOD_S = 2.0  # a viewer's runs list re-reads the folder this often


class RunsScreen(Screen):
    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("r", "rerun", "Rerun"),
        Binding("u", "resume", "Resume"),
        Binding("g", "refresh", "Refresh"),
        BACK,
        THEME,
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunsTable(id="runs-table")
        yield Static(id="run-details")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.app.read_only:
            self.sub_title = f"watching {self.app.runs_root}/ (read-only)"
            self.set_interval(REFRESH_PERIOD_S, self._refresh_quietly)
        else:
            self.sub_title = f"past runs in {self.app.runs_root.name}/"
        self.query_one("#runs-table").border_title = "runs (space marks two to compare)"
        self.query_one("#run-details").border_title = "run"
        # The first read stays here: the screen's first frame shows the runs, not an empty table.
        self._load(list_runs(self.app.runs_root))
        self.query_one(RunsTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.app.read_only and action in ("rerun", "resume", "back"):
            return False  # a viewer reruns nothing, and this is its first screen
        return True

    def _refresh_quietly(self) -> None:
        """Re-read the folder (new runs, changed states) in a thread, the cursor staying on its run."""
        if self.app.screen is self:
            self._read_in_worker()

    def _read_in_worker(self) -> None:
        # exclusive: a refresh asked for while one reads replaces it, so presses of g never queue up reads
        self.run_worker(self._read_runs, thread=True, exclusive=True, group="runs-refresh")

    def _read_runs(self) -> None:
        runs = list_runs(self.app.runs_root)  # reads every run's small files: off the UI thread
        self.app.call_from_thread(self._show_runs, runs)

    def _show_runs(self, runs) -> None:
        if self.is_attached:
            self._load(runs)

    def _load(self, runs) -> None:
        table = self.query_one(RunsTable)
        table.load(runs)
        if not table.runs:
            hint = "They appear here as they start." if self.app.read_only else "Launch a scenario from the picker."
            self.query_one("#run-details", Static).update(f"No runs yet in {self.app.runs_root}. {hint}")
        self._show_details()

    def action_refresh(self) -> None:
        """g: the folder is read in a worker (a stat walk of every run: tens of ms at thousands of
        runs), so the key returns at once and the table updates when the read is done."""
        self.query_one(RunsTable).focus()
        self._read_in_worker()

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
        if not self.app.read_only and run.state in RESUMABLE_STATES and why_not_resumable(run.path) is None:
            grid.add_row("resume", Text("u continues it from its last checkpoint"))
        self.query_one("#run-details", Static).update(grid)

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None and run.kind == "study":
            open_study_view(self.app, run.path)
        elif run is not None:
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
        if any(table.runs[str(p)].kind == "study" for p in paths[:2] if str(p) in table.runs):
            self.notify("A study is many runs: open it with enter, then enter on a trial opens its dashboard", severity="warning")
            return
        self.post_message(OpenRunRequested(paths[:2]))

    def action_rerun(self) -> None:
        run = self.query_one(RunsTable).current()
        if run is not None and run.kind == "study":
            self.notify(f"finish a study with: plastilab run --resume {run.path}", severity="warning", markup=False)
        elif run is not None:
            self.post_message(RelaunchRequested(run.path))

    def action_resume(self) -> None:
        """Continue the run under the cursor from its checkpoint, live in the dashboard."""
        run = self.query_one(RunsTable).current()
        if run is None:
            return
        why = why_not_resumable(run.path)
        if why is not None:
            self.notify(why, severity="warning", markup=False)
            return
        self.post_message(LaunchRequested(LaunchRequest(run.path / "scenario.toml", [], None, resume_dir=run.path)))

    def action_back(self) -> None:
        self.app.pop_screen()


def _shown_path(path, root) -> str:
    """The run folder relative to the runs root (short, and the same on every machine)."""
    try:
        return f"{root.name}/{path.relative_to(root)}"
    except ValueError:
        return str(path)
