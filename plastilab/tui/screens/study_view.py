"""The study view: a study's trials with their live states and steps, the counts and an ETA, and
the aggregate of the finished trials (a statistic against plasticity loss with Pearson r and n,
or the scaling curve). Enter opens a trial's run folder in the dashboard.

Everything on it is read from the study folder (``studies.snapshot``) once a second, in a
thread, so a study started by this lab and one watched read-only (``plastilab watch
STUDY_DIR``) look the same. Only a study this lab started can be stopped here, after a question;
the stop is the CLI's Ctrl-C, so every trial's state in the ledger stays truthful.
"""

from __future__ import annotations

import math
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
from plastilab.studies.scatter import colour_axes, default_colour, scatter_groups
from plastilab.studies.snapshot import StudyReader, StudySnapshot, TrialRow
from plastilab.tui.keys import BACK, THEME
from plastilab.tui.widgets.status_panel import STATE_STYLES
from plastilab.tui.widgets.study_chart import StudyChart, format_r

POLL_PERIOD_S = 1.0
COUNTED = ("finished", "running", "failed", "pending", "interrupted", "abandoned")


class StudyViewScreen(Screen):
    BINDINGS = [
        Binding("x", "next_statistic", "Statistic"),
        Binding("X", "previous_statistic", "Previous statistic", show=False),
        Binding("c", "next_colour", "Colour"),
        Binding("a", "toggle_checkpoints", "All/last"),
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
        if not self.is_attached:
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
                        table.update_cell(row.id, key, new)
            self._cells[row.id] = cells

    def _show_aggregate(self, force: bool = False) -> None:
        snapshot = self.snapshot
        aggregate = snapshot.aggregate if snapshot is not None else None
        key = (id(aggregate), self.statistic, self.colour_by, self.last_only)
        if key == self._drawn_key and not force:
            return
        self._drawn_key = key
        chart = self.query_one(StudyChart)
        caption = self.query_one("#study-caption", Static)
        if aggregate is None:
            chart.show_placeholder("the aggregate appears when the first trial finishes")
            caption.update("")
            return
        if snapshot.analysis == "scaling":
            self._show_scaling(aggregate, snapshot, chart, caption)
            return
        correlations = aggregate.correlations_last if self.last_only else aggregate.correlations
        names = [row["statistic"] for row in aggregate.correlations]
        if not aggregate.target or not names:
            chart.show_placeholder("no plasticity tag and statistics at the same checkpoints yet")
            caption.update("")
            return
        if self.statistic not in names:
            self.statistic = next((r["statistic"] for r in aggregate.correlations if math.isfinite(r["pearson"])), names[0])
        choices = colour_axes(aggregate.axis_columns)
        if self.colour_by not in choices:
            self.colour_by = default_colour(snapshot.color_by, aggregate.axis_columns)
        row = next(r for r in correlations if r["statistic"] == self.statistic)
        self.shown_correlation = row
        from plastilab.studies.aggregate import last_checkpoint_rows

        rows = last_checkpoint_rows(aggregate.rows) if self.last_only else aggregate.rows
        groups = scatter_groups(rows, self.statistic, aggregate.target, self.colour_by)
        chart.draw_scatter(groups, self.statistic, aggregate.target)
        text = Text()
        text.append(shown(f"{aggregate.target} vs {self.statistic}", 100), style="bold")
        text.append(f"   Pearson r {format_r(row['pearson'])} [{format_r(row['pearson_low'])}, {format_r(row['pearson_high'])}]")
        text.append(f"  n {row['n']}")
        text.append("\n" + ("each trial's last checkpoint" if self.last_only else "checkpoints after step 0"), style="dim")
        text.append(f" · colour {shown(self.colour_by, 60)} · {names.index(self.statistic) + 1}/{len(names)} by |r|", style="dim")
        caption.update(text)

    def _show_scaling(self, aggregate, snapshot, chart: StudyChart, caption: Static) -> None:
        self.shown_correlation = None
        x_label = snapshot.x or "x"
        chart.draw_scaling(aggregate.scaling, x_label)
        text = Text()
        text.append(f"{aggregate.target or 'plasticity loss'} vs {x_label}", style="bold")
        ns = sorted({p["n"] for p in aggregate.scaling})
        per_point = "" if not ns else f" · n per point {ns[0]}" + (f"–{ns[-1]}" if ns[-1] != ns[0] else "")
        text.append("\nmean and 95% interval over seeds" + per_point, style="dim")
        caption.update(text)

    # -- keys --------------------------------------------------------------------------------
    def _cycle_statistic(self, step: int) -> None:
        aggregate = self.snapshot.aggregate if self.snapshot is not None else None
        names = [row["statistic"] for row in aggregate.correlations] if aggregate is not None else []
        if not names:
            self.app.bell()
            return
        index = names.index(self.statistic) if self.statistic in names else -1
        self.statistic = names[(index + step) % len(names)]
        self._show_aggregate()

    def action_next_statistic(self) -> None:
        self._cycle_statistic(1)

    def action_previous_statistic(self) -> None:
        self._cycle_statistic(-1)

    def action_next_colour(self) -> None:
        aggregate = self.snapshot.aggregate if self.snapshot is not None else None
        if aggregate is None:
            self.app.bell()
            return
        choices = colour_axes(aggregate.axis_columns)
        index = choices.index(self.colour_by) if self.colour_by in choices else -1
        self.colour_by = choices[(index + 1) % len(choices)]
        self._show_aggregate()

    def action_toggle_checkpoints(self) -> None:
        self.last_only = not self.last_only
        self._show_aggregate()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return not self.read_only and self.process is not None and self.process.is_alive()
        if action in ("next_statistic", "previous_statistic", "next_colour", "toggle_checkpoints"):
            return self.snapshot is None or self.snapshot.analysis != "scaling"  # a scatter's keys
        if action == "back":
            return len(self.app.screen_stack) > 2  # the first screen of `watch STUDY_DIR` has nowhere to go
        return True

    def action_stop(self) -> None:
        process = self.process
        if self.read_only or process is None or not process.is_alive():
            return
        from plastilab.tui.screens.confirm import ConfirmScreen

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
