"""The dashboard: learning curves, status, latest values, log and the instruments' panes.
(Over 300 lines: one screen, whose drawing and key rules read the same view settings.)

It draws one session's ``RunState``; the app folds events into that state as batches arrive.
A 10 Hz timer redraws only when the state's version moved (or a view setting changed), and
ticks the status clock once a second while a run is live.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from plastilab.core.presentation import presentation_for
from plastilab.runtime.final_losses import has_final_losses
from plastilab.runtime.session import Session
from plastilab.tui.keys import BACK
from plastilab.tui.palette import SERIES_COLOURS
from plastilab.tui.panes import OVER_TIME_PANES, PANE_IDS, PANE_TITLES, PANES
from plastilab.tui.screens.comparison import ComparisonScreen
from plastilab.tui.screens.help import HelpScreen, watch_for_of
from plastilab.tui.screens.metric_chooser import MetricChooserScreen
from plastilab.tui.screens.series_filter import SeriesFilterScreen
from plastilab.tui.series_names import short_names
from plastilab.tui.widgets.covariance_heatmap import shown_matrices
from plastilab.tui.widgets.latest_values import table_width
from plastilab.tui.widgets.learning_curves import LearningCurves, seed_groups
from plastilab.tui.widgets.legend import legend_text
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.status_panel import StatusPanel

REDRAW_PERIOD_S = 0.1  # at most ten redraws a second
CLOCK_PERIOD_S = 1.0
# After the kind's own metric (its main loss, until it arrives): what most runs log.
FALLBACK_TAGS = ("train/accuracy", "task/final_loss", "units/dead_fraction")
# A run of more series than the palette has colours opens grouped over seeds (each variant's mean
# and min-max; key a shows every seed): past that, lines share colours and cannot be told apart,
# and every pane's cost grows with its lines (128 series drawn each: 148-263 ms a redraw against
# the 50 ms budget; grouped: bench/bench_tui_redraw.py --population).
GROUP_ABOVE = len(SERIES_COLOURS)


class DashboardScreen(Screen):
    # The footer keeps the short description, first come first shown: at 80 columns Help and Quit
    # must not be the keys cut off the right edge. The help screen gives the tooltip (the longer
    # words) where there is one.
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("s", "stop", "Stop"),
        Binding("r", "restart", "Rerun"),
        Binding("l", "log_scale", "Log y"),
        Binding("m", "next_metric", "Metric"),
        Binding("M", "previous_metric", "Previous metric", show=False),
        Binding("slash", "choose_metric", "Find", key_display="/", tooltip="Find metric"),
        Binding("f", "filter_series", "Series"),
        Binding("a", "over_seeds", "Mean", tooltip="Seeds/mean"),
        Binding("v", "next_pane", "Pane"),
        Binding("t", "over_time", "Time", tooltip="Over time"),
        Binding("n", "next_matrix", "Matrix"),
        Binding("n", "next_series", "Next", tooltip="Next series"),
        Binding("c", "compare", "Ranks"),
        BACK,
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.tag: str | None = None
        self._tag_chosen = False
        self.log_y = False
        self.over_seeds = False  # curves: each seed, or each variant's mean and min-max over seeds
        self._seeds_chosen = False  # the person pressed a: GROUP_ABOVE no longer decides
        self.hidden: set[str] = set()
        self.matrix_index = 0
        self.over_time = False  # probe and Hessian panes: over checkpoints instead of the latest
        self.focus = 0  # which series the over-time views show
        self._drawn_version = -1
        self._view_changed = True
        self._clock_drawn = 0.0
        self._last_state = ""
        self._can_compare = False
        self._pane_marks: dict[str, bool] = {}
        self.redraw_count = 0
        self._legend_key: tuple | None = None
        self._names_key: tuple | None = None
        self._legend_width = 0
        self._pane_keys: tuple | None = None  # the pane-dependent keys the footer shows
        self.names: dict[str, str] = {}  # series -> the name shown at this width

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            with Vertical(id="curves-pane"):
                yield Static(id="legend")
                yield LearningCurves(id="curves")
            yield StatusPanel(id="status")
        with TabbedContent(id="panes", initial=PANES[0].id):
            for pane in PANES:
                with TabPane(pane.title, id=pane.id):
                    yield pane.widget(id=pane.widget_id)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.session.title
        self.query_one("#curves-pane").border_title = "waiting"
        self.query_one("#status").border_title = "status"
        self.set_interval(REDRAW_PERIOD_S, self._tick)
        self.redraw()

    def on_unmount(self) -> None:
        self.app.release_session(self.session)

    # -- drawing ------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.app.screen is not self and not self.app.screen.is_modal:
            return  # covered by a full screen (the comparison view): draw when shown again
        state = self.session.state
        if state.version != self._drawn_version or self._view_changed:
            self.redraw()
        elif state.live and not state.ended and time.time() - self._clock_drawn >= CLOCK_PERIOD_S:
            self._draw_status()

    def redraw(self) -> None:
        """Draw every pane from the session's state (the benchmark times this)."""
        state = self.session.state
        self.redraw_count += 1
        self._drawn_version = state.version
        self._view_changed = False
        tags = state.tags()
        if not self._tag_chosen or self.tag not in tags:  # until a person picks one: the kind's main loss
            shown = presentation_for(state.kind)
            # Its loss while that metric has no point yet (a return before the first episode ends).
            preferred = (shown.dashboard_metric, *shown.progress_tags, shown.main_curve, *FALLBACK_TAGS)
            self.tag = next((t for t in preferred if t in tags), tags[0] if tags else None)
        if not self._seeds_chosen:
            self.over_seeds = len(state.series) > GROUP_ABOVE and bool(seed_groups(state.series))
        self._draw_status()
        self._choose_names()
        self._draw_legend()
        pane = self.query_one("#curves-pane")
        title = (self.tag or ("no numbers" if state.ended else "waiting")) + (" · log" if self.log_y else "")
        title += " · mean, min–max over seeds" if self.over_seeds else ""
        subtitle = f"│ task change · {len(state.boundaries) + 1} tasks" if state.boundaries else ""
        if (pane.border_title, pane.border_subtitle) != (title, subtitle):
            pane.border_title, pane.border_subtitle = title, subtitle
        view = self.view()
        self.query_one(LearningCurves).draw(state, view)
        for pane in PANES:
            caption = self.query_one(f"#{pane.widget_id}").draw(state, view)
            if pane.dot:
                self._mark_pane(pane.id, bool(caption))
        if has_final_losses(state) != self._can_compare:  # the comparison view's key appears
            self._can_compare = not self._can_compare
            self.refresh_bindings()
        if state.state != self._last_state:
            if state.state == "failed" and self._last_state:
                self.query_one(TabbedContent).active = "log"
            self._last_state = state.state
            self.refresh_bindings()

    def view(self) -> PaneView:
        return PaneView(
            tag=self.tag,
            log_y=self.log_y,
            hidden=frozenset(self.hidden),
            matrix_index=self.matrix_index,
            names=self.names,
            over_seeds=self.over_seeds,
            over_time=self.over_time,
            focus=self.focus,
        )

    def on_resize(self) -> None:
        self._view_changed = True  # names and legend are chosen for the width

    def _choose_names(self) -> None:
        """The longest series names with which the legend and the values table both fit the width."""
        state = self.session.state
        legend_width = self.query_one("#legend").size.width
        table_room = self.query_one("#panes").size.width - 1  # its scroll bar
        tags = state.tags()
        key = (tuple(state.series), legend_width, table_room, len(tags))
        if key == self._names_key:
            return
        self._names_key = key
        shown = [s for s in state.series if s not in self.hidden]

        def table_fits(names: dict[str, str]) -> bool:
            return table_width([names[s] for s in shown], tags, table_room) <= table_room

        def legend_fits(names: dict[str, str]) -> bool:
            return cell_len(legend_text(state.series, names, self.hidden).plain) <= legend_width

        self.names = short_names(state.series, table_fits, legend_fits)
        self._legend_width = legend_width
        self._legend_key = None

    def _draw_status(self) -> None:
        self._clock_drawn = time.time()
        self.query_one(StatusPanel).draw(self.session.state, self.view())

    def _draw_legend(self) -> None:
        state = self.session.state
        key = (tuple(state.series), frozenset(self.hidden), tuple(self.names.items()))
        if key == self._legend_key:
            return
        self._legend_key = key
        legend = legend_text(state.series, self.names, self.hidden)
        if cell_len(legend.plain) > self._legend_width > 0:  # too many series for one line: a key line
            shown = len([s for s in state.series if s not in self.hidden])
            legend = Text(f"{shown} series · colours as in the Values columns", style="dim", no_wrap=True, overflow="ellipsis")
        self.query_one("#legend", Static).update(legend)

    def _mark_pane(self, pane: str, has_data: bool) -> None:
        """A dot on a tab whose pane has something to show."""
        if self._pane_marks.get(pane) == has_data:
            return
        self._pane_marks[pane] = has_data
        tab = self.query_one(TabbedContent).get_tab(pane)
        tab.label = PANE_TITLES[pane] + (" ●" if has_data else "")

    # -- keys ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.session.state
        live = self.session.is_live and not state.ended
        if getattr(self.app, "read_only", False) and action in ("pause", "resume", "stop", "restart"):
            return False  # a viewer reads runs, it never controls one
        if action == "pause":
            return live and state.state in ("running", "starting", "waiting")
        if action == "resume":
            return live and state.state == "paused"
        if action == "stop":
            return live and state.state != "stopping"
        if action == "restart":
            return self.session.relaunch_request() is not None
        if action == "next_matrix":  # shown with the covariance pane, where it applies
            return len(shown_matrices(state)) > 1 and self.query_one(TabbedContent).active == "covariance"
        if action == "over_time":  # shown with the panes it changes
            return self.query_one(TabbedContent).active in OVER_TIME_PANES
        if action == "next_series":  # over time, one series at a time
            return self.over_time and self.check_action("over_time", parameters) and len(over_time_series(state, self.hidden)) > 1
        if action == "compare":  # gives way to the matrix key on the covariance pane (80 columns)
            return self._can_compare and not self.check_action("next_matrix", parameters)
        if action == "over_seeds":  # only for a run of several seeds
            return bool(seed_groups(state.series))
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    def action_pause(self) -> None:
        self.app.pause_session(self.session)
        self.refresh_bindings()

    def action_resume(self) -> None:
        self.app.resume_session(self.session)
        self.refresh_bindings()

    def action_stop(self) -> None:
        self.app.stop_session(self.session)
        self.refresh_bindings()

    def action_restart(self) -> None:
        self.app.restart_session(self.session)

    def action_log_scale(self) -> None:
        self.log_y = not self.log_y
        self._view_changed = True

    def action_over_seeds(self) -> None:
        self.over_seeds = not self.over_seeds
        self._seeds_chosen = True
        self._view_changed = True

    def action_next_metric(self) -> None:
        self._step_metric(1)

    def action_previous_metric(self) -> None:
        self._step_metric(-1)

    def _step_metric(self, delta: int) -> None:
        tags = self.session.state.tags()
        if tags:
            index = tags.index(self.tag) + delta if self.tag in tags else 0
            self.show_metric(tags[index % len(tags)])

    def show_metric(self, tag: str) -> None:
        self.tag = tag
        self._tag_chosen = True
        self._view_changed = True

    def action_choose_metric(self) -> None:
        def chosen(tag: str | None) -> None:
            if tag is not None:
                self.show_metric(tag)

        self.app.push_screen(MetricChooserScreen(self.session.state.tags(), self.tag), chosen)

    def action_next_pane(self) -> None:
        tabs = self.query_one(TabbedContent)
        index = PANE_IDS.index(tabs.active) + 1 if tabs.active in PANE_IDS else 0
        tabs.active = PANE_IDS[index % len(PANE_IDS)]  # the tab-activated handler below updates the keys

    def on_tabbed_content_tab_activated(self) -> None:
        # Only some panes change which keys apply; a footer rebuild costs a keypress.
        shown = tuple(self.check_action(a, ()) for a in ("next_matrix", "compare", "over_time", "next_series"))
        if shown != self._pane_keys:
            self._pane_keys = shown
            self.refresh_bindings()

    def action_over_time(self) -> None:
        self.over_time = not self.over_time
        self._view_changed = True
        self.on_tabbed_content_tab_activated()  # the next-series key comes and goes with it

    def action_next_series(self) -> None:
        self.focus += 1
        self._view_changed = True

    def action_next_matrix(self) -> None:
        self.matrix_index += 1
        self._view_changed = True

    def action_filter_series(self) -> None:
        def apply(hidden: set[str] | None) -> None:
            if hidden is not None:
                self.hidden = hidden
                self._view_changed = True

        self.app.push_screen(SeriesFilterScreen(self.session.state.series, self.hidden), apply)

    def action_compare(self) -> None:
        self.app.push_screen(ComparisonScreen(self.session))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_help(self) -> None:
        session = self.session
        folder = session.folder or (Path(session.state.run_dir) if session.state.run_dir else None)
        scenario_file = session.request.scenario_path if session.request else (folder / "scenario.toml" if folder else None)
        keys = [(b.key_display or b.key, b.tooltip or b.description) for b in self.BINDINGS if isinstance(b, Binding) and b.description]
        keys = list(dict.fromkeys(keys))  # p: pause and resume share a key
        self.app.push_screen(HelpScreen(session.state.scenario or session.title, watch_for_of(scenario_file), keys))


def over_time_series(state, hidden: set[str]) -> list[str]:
    """The shown series with a probe curve or a density over checkpoints (`n` steps through them)."""
    history = state.array_history
    return [s for s in state.series if s not in hidden and (history.of("probe/curve", s) or history.of("hessian/density", s))]
