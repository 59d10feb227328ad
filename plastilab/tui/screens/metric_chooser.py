"""Choose the dashboard's metric: every scalar tag, grouped by slash prefix, filtered as you type.

Type any part of a tag (``td``, ``dead``, ``probe loss``: every word must appear), move with
Up/Down, Enter draws it, Esc keeps the current one. A run with every instrument logs some fifty tags:
this reaches any of them in a few keys, where ``m`` steps through them one by one.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


def matching(tags: list[str], query: str) -> list[str]:
    """The tags that contain every word of ``query`` (any case), in their order."""
    words = query.lower().split()
    return [t for t in tags if all(w in t.lower() for w in words)]


def group_of(tag: str) -> str:
    return tag.split("/", 1)[0] if "/" in tag else "(other)"


class MetricChooserScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, tags: list[str], current: str | None) -> None:
        super().__init__()
        self.tags = list(tags)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="metric-dialog"):
            yield Static("Metric: type to filter, ↑↓ to move, enter to draw, esc to close", id="metric-title")
            yield Input(placeholder="part of a tag, e.g. loss", id="metric-filter", compact=True)
            yield OptionList(id="metric-list")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one("#metric-filter", Input).focus()

    def fill(self, query: str) -> None:
        options = self.query_one("#metric-list", OptionList)
        options.clear_options()
        group = None
        highlight = None
        for tag in matching(self.tags, query):
            if group_of(tag) != group:
                group = group_of(tag)
                options.add_option(Option(Text(group + "/", style="bold dim"), disabled=True))
            options.add_option(Option("  " + tag, id=tag))
            if highlight is None or tag == self.current:  # the current metric, else the first match
                highlight = options.option_count - 1
        options.highlighted = highlight

    @on(Input.Changed, "#metric-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.current = None if event.value else self.current
        self.fill(event.value)

    @on(Input.Submitted, "#metric-filter")
    def _submit(self) -> None:
        options = self.query_one("#metric-list", OptionList)
        if options.highlighted is None:
            self.app.bell()
            return
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#metric-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#metric-list", OptionList)
        options.action_cursor_down() if delta > 0 else options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
