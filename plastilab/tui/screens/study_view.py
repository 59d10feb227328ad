"""The study view: a study's trials with their live states and steps, the counts and an ETA, and
the aggregate of the finished trials (a statistic against plasticity loss with Pearson r and n,
or the scaling curve). Enter opens a trial's run folder in the dashboard.

Everything on it is read from the study folder (``studies.snapshot``) once a second, in a
thread, so a study started by this lab and one watched read-only (``plastilab watch
STUDY_DIR``) look the same. Only a study this lab started can be stopped here, after a question;
the stop is the CLI's Ctrl-C, so every trial's state in the ledger stays truthful.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from plastilab.core.safe_text import shown
from plastilab.studies.background import StudyProcess
from plastilab.studies.progress import format_seconds
from plastilab.studies.analyses import analysis_for
from plastilab.studies.analyses.base import SCATTER
from plastilab.studies.snapshot import StudyReader, StudySnapshot, TrialRow
from plastilab.tui.screens.confirm import ConfirmScreen
from plastilab.tui.screens.study_aggregate import StudyAggregatePane
from plastilab.tui.keys import BACK, THEME
from plastilab.tui.widgets.status_panel import STATE_STYLES
from plastilab.tui.widgets.study_chart import StudyChart

POLL_PERIOD_S = 1.0
COUNTED = ("finished", "running", "failed", "pending", "interrupted", "abandoned")


class StudyViewScreen(StudyAggregatePane, Screen):
    BINDINGS = [
        Binding("x", "next_statistic", "Statistic"),
        Binding("X", "previous_statistic", "Previous statistic", show=False),
        Binding("c", "next_colour", "Colour"),
        Binding("a", "toggle_last_probe_step", "All/last"),
        Binding("s", "stop", "Stop study"),
        Binding("g", "refresh", "Refresh"),
        BACK,
        THEME,
    ]

    def __init__(self, study_dir: Path | None = None, process: StudyProcess | None = None) -> None:
        super().__init__()
        self.study_dir = Path(study_dir) if study_dir is not None else None
        self.process = process  # the study this lab started (None: it only watches a folder)
        self.reader: StudyReader | None = None
        self.snapshot: StudySnapshot | None = None
        self.statistic: str | None = None
        self.colour_by: str | None = None
        self.last_only = False
        self.shown_correlation: dict | None = None  # the correlation row the chart's title shows
        self._cells: dict[str, tuple] = {}
        self._drawn_key: tuple | None = None
        self._error: str | None = None
        self._reading = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="study-counts")
        with Container(id="study-body"):
            yield DataTable(id="study-trials", cursor_type="row", zebra_stripes=True)
            with Vertical(id="study-aggregate"):
                yield Static(id="study-caption")
                yield StudyChart(id="study-chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#study-trials", DataTable)
        for key, label in (("trial", "trial"), ("settings", "settings"), ("state", "state"), ("step", "step"), ("time", "time")):
            table.add_column(label, key=key)
        table.border_title = "trials (enter opens one)"
        self.query_one("#study-aggregate").border_title = "aggregate"
        self.title = "plastilab"
        self.sub_title = self._subtitle()
        self.query_one("#study-counts", Static).update("starting the study…" if self.study_dir is None else "reading the study folder…")
        self.set_interval(POLL_PERIOD_S, self._poll)
        self._poll()
        table.focus()

    # -- reading -----------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False)) or self.process is None

    def _subtitle(self) -> str:
        where = shown(_shown_path(self.study_dir, self.app.runs_root), 100) if self.study_dir is not None else "(folder not made yet)"
        return f"study {where}" + (" (read-only)" if getattr(self.app, "read_only", False) else "")

    def _poll(self) -> None:
        process = self.process
        if process is not None:
            process.poll()  # its folder once made; an error or its end
            if self.study_dir is None and process.study_dir is not None:
                self.study_dir = process.study_dir
                self.sub_title = self._subtitle()
            if self.study_dir is None:
                if process.error or process.ended:
                    self._fail(process.error or "the study process ended before it made its folder")
                return
        if self._error is None and not self._reading:
            self._reading = True  # one read at a time: a slow one (a busy machine) is not doubled
            self.run_worker(self._read, thread=True, group="study-read")

    def _read(self) -> None:
        try:
            if self.reader is None:
                self.reader = StudyReader(self.study_dir)
            snapshot = self.reader.read()
            show, argument = self.show_snapshot, snapshot
        except Exception as exc:  # noqa: BLE001 - a damaged folder is said in one line, not a traceback
            show, argument = self._fail, f"{self.study_dir}: cannot read the study ({type(exc).__name__}: {exc})"
        finally:
            self._reading = False
        try:
            self.app.call_from_thread(show, argument)
        except RuntimeError:  # the app closed while this read ran
            pass

    def _fail(self, message: str) -> None:
        if self._error == message:
            return
        self._error = message
        self.query_one("#study-counts", Static).update(Text(shown(message, 300), style="red"))
        self.notify(shown(message, 300), title="study", severity="error", timeout=10, markup=False)

    def action_refresh(self) -> None:
        self._poll()

    # -- drawing -----------------------------------------------------------------------------
    def show_snapshot(self, snapshot: StudySnapshot) -> None:
        # A read that lands while the app closes finds the screen attached but its widgets gone.
        if not self.is_attached or not self.query("#study-counts"):
            return
        self.snapshot = snapshot
        keys = (self.check_action("stop", ()), snapshot.analysis)
        if keys != getattr(self, "_keys_shown", None):  # the footer shows only the keys that apply
            self._keys_shown = keys
            self.refresh_bindings()
        self._show_counts(snapshot)
        self._show_trials(snapshot.trials)
        self._show_aggregate()

    def _show_counts(self, snapshot: StudySnapshot) -> None:
        counts = snapshot.counts
        line = Text()
        line.append(snapshot.name, style="bold")
        line.append(f"  done {counts.get('finished', 0)}/{len(snapshot.trials)}")
        for state in COUNTED[1:]:
            if counts.get(state) or state in ("running", "failed"):
                line.append(f"  {state} ", style="dim")
                line.append(str(counts.get(state, 0)), style=STATE_STYLES.get(state, "") if counts.get(state) else "")
        if snapshot.eta_s is not None and snapshot.running:
            line.append(f"  ETA {format_seconds(snapshot.eta_s)}")
        process = self.process
        if process is not None and process.error:
            line.append(f"  {shown(process.error, 200)}", style="red")
        elif process is not None and process.stops and process.is_alive():
            line.append("  stopping…", style="bold yellow")
        elif process is not None and not process.is_alive() and not snapshot.running:
            line.append("  (study process ended)", style="dim")
        self.query_one("#study-counts", Static).update(line)

    def _show_trials(self, trials: list[TrialRow]) -> None:
        table = self.query_one("#study-trials", DataTable)
        for row in trials:
            cells = (
                Text(row.id),
                Text(shown(row.settings, 120)),  # Text: a DataTable reads str cells as markup
                Text(row.state, style=STATE_STYLES.get(row.state, "dim")),
                _steps(row),
                format_seconds(row.seconds) if row.seconds is not None else "",
            )
            previous = self._cells.get(row.id)
            if previous is None:
                table.add_row(*cells, key=row.id)
            elif previous != cells:
                for key, old, new in zip(("trial", "settings", "state", "step", "time"), previous, cells):
                    if old != new:
                        table.update_cell(row.id, key, new, update_width=True)  # a cell that grew widens its column
            self._cells[row.id] = cells

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return not self.read_only and self.process is not None and self.process.is_alive()
        if action in ("next_statistic", "previous_statistic", "next_colour", "toggle_last_probe_step"):
            return self.snapshot is None or analysis_for(self.snapshot.analysis).chart == SCATTER  # a scatter's keys
        if action == "back":
            return len(self.app.screen_stack) > 2  # the first screen of `watch STUDY_DIR` has nowhere to go
        return True

    def action_stop(self) -> None:
        process = self.process
        if self.read_only or process is None or not process.is_alive():
            return
        if process.stops:
            question = "The study is stopping. Kill its workers now? Their trials end abandoned; `plastilab run --resume` reruns them."
        else:
            question = (
                "Stop the study? Running trials end interrupted, pending ones stay pending; "
                f"`plastilab run --resume {self.study_dir}` finishes it later."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                process.stop()
                self.notify("stopping the study…" if process.stops == 1 else "killing the study's workers…", markup=False)
                if self.snapshot is not None:
                    self._show_counts(self.snapshot)

        self.app.push_screen(ConfirmScreen(question, yes="Stop", no="Keep running"), answered)

    @on(DataTable.RowHighlighted, "#study-trials")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = self._row(event.row_key.value)
        if row is not None:
            self.query_one("#study-trials", DataTable).border_subtitle = shown(row.label + (f" — {row.error}" if row.error else ""), 200)

    @on(DataTable.RowSelected, "#study-trials")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.open_trial(event.row_key.value)

    def open_trial(self, trial_id: str) -> None:
        row = self._row(trial_id)
        if row is None:
            return
        if row.run_dir is None or not row.run_dir.is_dir():
            self.notify(f"{row.id} has no run folder yet ({row.state})", severity="warning", markup=False)
            return
        self.app.open_folders([row.run_dir])

    def _row(self, trial_id: str | None) -> TrialRow | None:
        if self.snapshot is None:
            return None
        return next((r for r in self.snapshot.trials if r.id == trial_id), None)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()


def _shown_path(path: Path, root: Path) -> str:
    """The study folder relative to the runs root (short, and the same on every machine)."""
    try:
        return f"{root.name}/{path.relative_to(root)}"
    except ValueError:
        return str(path)


def _steps(row: TrialRow) -> str:
    if row.step is None:
        return ""
    if row.total:
        return f"{row.step:,}/{row.total:,}"
    return f"{row.step:,}"
