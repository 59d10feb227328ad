"""Choose which series the dashboard draws: overlay any two, from one run or from two."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, SelectionList, Static


class SeriesFilterScreen(ModalScreen[set[str] | None]):
    BINDINGS = [
        Binding("a", "all", "All"),
        Binding("escape", "apply", "Done"),
    ]

    def __init__(self, series: list[str], hidden: set[str]) -> None:
        super().__init__()
        self.series = list(series)
        self.hidden = set(hidden)

    def compose(self) -> ComposeResult:
        with Vertical(id="series-dialog"):
            yield Static("Series to draw: space toggles, esc closes", id="series-title")
            yield SelectionList[str](*[(name, name, name not in self.hidden) for name in self.series], id="series-list")
        yield Footer(compact=True)

    def action_apply(self) -> None:
        shown = set(self.query_one(SelectionList).selected)
        self.dismiss({name for name in self.series if name not in shown})

    def action_all(self) -> None:
        self.query_one(SelectionList).select_all()
