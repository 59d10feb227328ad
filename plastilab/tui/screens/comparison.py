"""The comparison view: each iteration's final loss on one chart, and the ranking of combinations.

Reached from the dashboard (``c``) for any run that logs ``task/final_loss``: a grid of
combinations over seeds (series ``mlp+redo/s0``, ranked per combination), a run whose series are
variants side by side (one series each), a past run reopened from the runs list. It draws the
same session's state as the dashboard underneath, so the chart and the ranking fill while the
run goes on; the ranking is the headless report's (``rank_combinations``) over the final losses
seen so far, over the window the run's scenario kind reads from its file.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from plastilab.analysis.ranking import combination_of, rank_combinations
from plastilab.runtime.final_losses import (
    combinations,
    final_loss_counts,
    final_losses,
    mean_over_seeds,
    ranking_window,
    seeds_per_combination,
)
from plastilab.runtime.session import Session
from plastilab.tui.keys import BACK
from plastilab.tui.widgets.final_loss_chart import FinalLossChart
from plastilab.tui.widgets.ranking_table import RankingTable

REDRAW_PERIOD_S = 0.1


class ComparisonScreen(Screen):
    BINDINGS = [
        Binding("a", "toggle_seeds", "Seeds"),
        Binding("l", "log_scale", "Log y"),
        Binding("h", "toggle_hidden", "Hide"),
        BACK,
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.each_seed = False  # False: one line per combination, the mean over its seeds
        self.log_y = False
        self.hidden: set[str] = set()  # combinations left off the chart
        self.window: int | None = None
        self.redraw_count = 0
        self._drawn: tuple | None = None
        self._several_seeds = False
        self._ranked = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="final-loss-pane"):
            yield FinalLossChart(id="final-loss-chart")
        yield RankingTable(id="ranking-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "comparison"
        self.sub_title = self.session.title
        self.set_interval(REDRAW_PERIOD_S, self._tick)
        self.redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _tick(self) -> None:
        state = self.session.state
        if (final_loss_counts(state), len(state.series)) != self._drawn:
            self.redraw()

    def redraw(self) -> None:
        state = self.session.state
        self.redraw_count += 1
        self._drawn = (final_loss_counts(state), len(state.series))
        if self.window is None and (state.run_dir or self.session.folder):
            self.window = ranking_window(state.run_dir or self.session.folder)
        window = self.window or ranking_window(None)
        losses = final_losses(state)
        colours = {name: i for i, name in enumerate(combinations(state.series))}
        several = any(n > 1 for n in seeds_per_combination(list(losses)).values())
        if several != self._several_seeds:
            self._several_seeds = several
            self.refresh_bindings()
        by_seed = self.each_seed and several
        lines = losses if by_seed else mean_over_seeds(losses)
        chart_lines = [
            (colours.get(combination_of(name), 0), values)
            for name, values in lines.items()
            if combination_of(name) not in self.hidden
        ]
        self.query_one(FinalLossChart).draw(chart_lines, self.log_y)
        ranking = rank_combinations(losses, window)
        grouped = any(combination_of(name) != name for name in losses)  # series named <combination>/s<seed>
        self.query_one(RankingTable).show(ranking, colours, self.hidden, "combination" if grouped else "series", window)
        if bool(ranking) != self._ranked:
            self._ranked = bool(ranking)
            self.refresh_bindings()
        iterations = max((len(v) for v in losses.values()), default=0)
        pane = self.query_one("#final-loss-pane")
        seeds = (" · each seed" if by_seed else " · mean over seeds") if several else ""
        pane.border_title = "task/final_loss per iteration" + seeds + (" · log" if self.log_y else "")
        pane.border_subtitle = f"{iterations} iterations" if iterations else ""
        table = self.query_one(RankingTable)
        if iterations and iterations <= window:  # "the last 5 of 3" would mislead: say what it is
            table.border_title = f"ranking · mean of all {iterations} iteration{'s' if iterations != 1 else ''}"
            table.border_subtitle = f"change: after more than {window} iterations" if ranking else ""
        else:
            table.border_title = f"ranking · mean of the last {window} iterations"
            table.border_subtitle = f"change: from the first {window}" if ranking else ""

    def _view_changed(self) -> None:
        self.redraw()
        self.refresh_bindings()

    # -- keys ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_seeds":
            return self._several_seeds
        if action == "toggle_hidden":
            return self._ranked
        return True

    def action_toggle_seeds(self) -> None:
        self.each_seed = not self.each_seed
        self._view_changed()

    def action_log_scale(self) -> None:
        self.log_y = not self.log_y
        self._view_changed()

    def action_toggle_hidden(self) -> None:
        name = self.query_one(RankingTable).selected
        if name is not None:
            self.hidden ^= {name}
            self._view_changed()

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        """Enter (or a click) on a row shows or hides that combination, like ``h``."""
        message.stop()
        self.action_toggle_hidden()

    def action_back(self) -> None:
        self.app.pop_screen()
