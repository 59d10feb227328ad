"""The dashboard's help (``?``): what to watch for in this scenario, and every key of the screen."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def watch_for_of(scenario_file: Path | None) -> str:
    """The ``watch_for`` sentences of a scenario file (a run folder's resolved one too); "" if none."""
    if scenario_file is None:
        return ""
    try:
        data = tomllib.loads(Path(scenario_file).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ""
    text = data.get("watch_for", "")
    return text.strip() if isinstance(text, str) else ""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, watch_for: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = title
        self.watch_for = watch_for
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(self._body(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = f"help · {self.heading}"

    def _body(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(overflow="fold")
        if self.watch_for:
            grid.add_row(Text("What to watch for", style="bold"), "")
            grid.add_row("", Text(self.watch_for))
            grid.add_row("", "")
        grid.add_row(Text("Keys", style="bold"), "")
        for key, what in self.keys:
            grid.add_row(key, Text(what, style="dim"))
        return grid

    def action_close(self) -> None:
        self.dismiss(None)
