"""The dashboard: learning curves, status, latest values, log and the instruments' panes.
Its keys (which apply now, what each does) are ``DashboardKeys``, in dashboard_keys.py.

It draws one session's ``RunState``; the app folds events into that state as batches arrive.
A 10 Hz timer redraws only when the state's version moved (or a view setting changed), and
ticks the status clock once a second while a run is live.
"""

from __future__ import annotations

import time

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from plastilab.core.presentation import presentation_for
from plastilab.runtime.final_losses import has_final_losses
from plastilab.runtime.session import Session
from plastilab.tui.palette import SERIES_COLOURS
from plastilab.tui.panes import PANE_TITLES, PANES
from plastilab.tui.screens.dashboard_keys import DashboardKeys
from plastilab.tui.series_names import short_names
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


class DashboardScreen(DashboardKeys):
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
