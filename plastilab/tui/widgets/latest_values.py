"""The latest value of every scalar tag, one row a tag, one column a series."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from plastilab.tui.palette import series_style
from plastilab.tui.run_state import RunState, format_value


class LatestValues(DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._layout: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

    def show(self, state: RunState, hidden: set[str]) -> None:
        series = tuple(s for s in state.series if s not in hidden)
        tags = tuple(state.tags())
        if (series, tags) != self._layout:
            self._rebuild(state, series, tags)
            return
        for tag in tags:
            for name in series:
                value = format_value(state.latest.get(name, {}).get(tag))
                self.update_cell(tag, name, value)

    def _rebuild(self, state: RunState, series: tuple[str, ...], tags: tuple[str, ...]) -> None:
        self._layout = (series, tags)
        row = self.cursor_row
        self.clear(columns=True)
        self.add_column("tag", key="tag")
        for name in series:
            index = state.series.index(name)
            self.add_column(Text(name, style=series_style(index)), key=name)
        for tag in tags:
            cells = [format_value(state.latest.get(name, {}).get(tag)) for name in series]
            self.add_row(tag, *cells, key=tag)
        if tags:
            self.move_cursor(row=min(row, len(tags) - 1))
