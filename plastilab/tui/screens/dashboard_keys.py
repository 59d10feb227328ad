"""The dashboard's keys: the footer's list, which keys apply now (``check_action``) and what each
does. ``DashboardScreen`` draws; the view settings these keys change (``tag``, ``log_y``,
``over_seeds``, ``hidden``, ``matrix_index``, ``over_time``, ``focus``) are set in its ``__init__``,
and a key that changes one marks the view changed (``_view_changed``) for the next redraw."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import TabbedContent

from plastilab.tui.keys import BACK
from plastilab.tui.panes import OVER_TIME_PANES, PANE_IDS
from plastilab.tui.screens.comparison import ComparisonScreen
from plastilab.tui.screens.help import HelpScreen, watch_for_of
from plastilab.tui.screens.metric_chooser import MetricChooserScreen
from plastilab.tui.screens.series_filter import SeriesFilterScreen
from plastilab.tui.widgets.covariance_heatmap import shown_matrices
from plastilab.tui.widgets.learning_curves import seed_groups


class DashboardKeys(Screen):
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
