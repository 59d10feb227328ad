"""The dashboard: learning curves, status, latest values, log and the instruments' panes.

It draws one session's ``RunState``; the app folds events into that state as batches arrive.
A 10 Hz timer redraws only when the state's version moved (or a view setting changed), and
ticks the status clock once a second while a run is live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from plastilab.core.events import Matrix
from plastilab.core.presentation import presentation_for
from plastilab.runtime.final_losses import has_final_losses
from plastilab.runtime.session import Session
from plastilab.tui.palette import series_style
from plastilab.tui.widgets.covariance_heatmap import CovarianceHeatmap
from plastilab.tui.widgets.hessian_density_pane import HessianDensityPane
from plastilab.tui.widgets.latest_values import LatestValues
from plastilab.tui.widgets.learning_curves import LearningCurves, seed_groups
from plastilab.tui.widgets.log_pane import LogPane
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.plasticity_curve import PlasticityCurve
from plastilab.tui.widgets.status_panel import StatusPanel

REDRAW_PERIOD_S = 0.1  # at most ten redraws a second
CLOCK_PERIOD_S = 1.0
# After the kind's own metric (its main loss, until it arrives): what most runs log.
FALLBACK_TAGS = ("train/accuracy", "task/final_loss", "units/dead_fraction")


@dataclass(frozen=True)
class PaneSpec:
    id: str  # the tab's id
    title: str  # the tab's label
    widget: type  # a widget with draw(state, view) -> caption (tui/widgets/pane.py)
    widget_id: str
    dot: bool = True  # the tab shows a dot while the pane has something to show


# The tabs under the curves, in order; a new pane is its widget file and one line here.
PANES = (
    PaneSpec("values", "Values", LatestValues, "latest", dot=False),
    PaneSpec("log", "Log", LogPane, "log-pane"),
    PaneSpec("plasticity", "Plasticity", PlasticityCurve, "plasticity-curve"),
    PaneSpec("hessian", "Hessian", HessianDensityPane, "eigen-histogram"),
    PaneSpec("covariance", "Covariance", CovarianceHeatmap, "heatmap"),
)
PANE_IDS = tuple(pane.id for pane in PANES)
PANE_TITLES = {pane.id: pane.title for pane in PANES}


class DashboardScreen(Screen):
    BINDINGS = [
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("s", "stop", "Stop"),
        Binding("r", "restart", "Rerun"),
        Binding("l", "log_scale", "Log y"),
        Binding("m", "next_metric", "Metric"),
        Binding("f", "filter_series", "Series"),
        Binding("a", "over_seeds", "Seeds/mean"),
        Binding("v", "next_pane", "Pane"),
        Binding("n", "next_matrix", "Matrix"),
        Binding("c", "compare", "Ranks"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.tag: str | None = None
        self._tag_chosen = False
        self.log_y = False
        self.over_seeds = False  # curves: each seed, or each variant's mean and min-max over seeds
        self.hidden: set[str] = set()
        self.matrix_index = 0
        self._drawn_version = -1
        self._view_changed = True
        self._clock_drawn = 0.0
        self._last_state = ""
        self._can_compare = False
        self._pane_marks: dict[str, bool] = {}
        self.redraw_count = 0
        self._legend_key: tuple | None = None

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
            preferred = (presentation_for(state.kind).dashboard_metric, *FALLBACK_TAGS)
            self.tag = next((t for t in preferred if t in tags), tags[0] if tags else None)
        self._draw_status()
        self._draw_legend()
        pane = self.query_one("#curves-pane")
        title = (self.tag or "waiting") + (" · log" if self.log_y else "") + (" · mean, min–max over seeds" if self.over_seeds else "")
        subtitle = f"{len(state.boundaries) + 1} tasks" if state.boundaries else ""
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
            tag=self.tag, log_y=self.log_y, hidden=frozenset(self.hidden), matrix_index=self.matrix_index, over_seeds=self.over_seeds
        )

    def _draw_status(self) -> None:
        self._clock_drawn = time.time()
        self.query_one(StatusPanel).draw(self.session.state, self.view())

    def _draw_legend(self) -> None:
        state = self.session.state
        key = (tuple(state.series), frozenset(self.hidden), bool(state.boundaries))
        if key == self._legend_key:
            return
        self._legend_key = key
        legend = Text(no_wrap=False)
        for index, name in enumerate(state.series):
            if legend:
                legend.append("  ")
            style = "dim strike" if name in self.hidden else series_style(index)
            legend.append("━ " + name, style=style)
        if state.boundaries:
            legend.append("  │ task", style="dim")
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
        if action == "pause":
            return live and state.state in ("running", "starting", "waiting")
        if action == "resume":
            return live and state.state == "paused"
        if action == "stop":
            return live and state.state != "stopping"
        if action == "restart":
            return self.session.relaunch_request() is not None
        if action == "next_matrix":  # shown with the covariance pane, where it applies
            return len(state.arrays_of(Matrix)) > 1 and self.query_one(TabbedContent).active == "covariance"
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
        self._view_changed = True

    def action_next_metric(self) -> None:
        tags = self.session.state.tags()
        if tags:
            index = tags.index(self.tag) + 1 if self.tag in tags else 0
            self.tag = tags[index % len(tags)]
            self._tag_chosen = True
            self._view_changed = True

    def action_next_pane(self) -> None:
        tabs = self.query_one(TabbedContent)
        index = PANE_IDS.index(tabs.active) + 1 if tabs.active in PANE_IDS else 0
        tabs.active = PANE_IDS[index % len(PANE_IDS)]
        self.refresh_bindings()

    def on_tabbed_content_tab_activated(self) -> None:
        self.refresh_bindings()

    def action_next_matrix(self) -> None:
        self.matrix_index += 1
        self._view_changed = True

    def action_filter_series(self) -> None:
        from plastilab.tui.screens.series_filter import SeriesFilterScreen

        def apply(hidden: set[str] | None) -> None:
            if hidden is not None:
                self.hidden = hidden
                self._view_changed = True

        self.app.push_screen(SeriesFilterScreen(self.session.state.series, self.hidden), apply)

    def action_compare(self) -> None:
        from plastilab.tui.screens.comparison import ComparisonScreen

        self.app.push_screen(ComparisonScreen(self.session))

    def action_back(self) -> None:
        self.app.pop_screen()
