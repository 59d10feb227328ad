"""The latest value of every scalar tag: one row a tag, one column a series, header kept on top.

Drawn line by line (Textual's line API) from plain fixed-width text, which costs a fraction of
a millisecond, so it can follow every batch of a fast run; it scrolls when the tags outgrow it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from plastilab.tui.palette import series_rgb
from plastilab.tui.widgets.pane import PaneView
from plastilab.runtime.run_state import RunState, format_value

VALUE_WIDTH = 10


class LatestValues(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"latest-values--header", "latest-values--tag", "latest-values--odd"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []  # (tag, values as text)
        self._tag_width = 12
        self._widths: list[int] = []

    def draw(self, state: RunState, view: PaneView) -> str:
        """Every tag's latest value; the caption counts the tags."""
        hidden = view.hidden
        self.columns = [s for s in state.series if s not in hidden]
        self._colours = {s: series_rgb(i) for i, s in enumerate(state.series)}
        self.rows = [(tag, [format_value(state.latest.get(s, {}).get(tag)) for s in self.columns]) for tag in state.tags()]
        self._tag_width = max([len("tag")] + [len(tag) for tag, _ in self.rows]) + 2
        self._widths = [max(VALUE_WIDTH, len(s)) + 2 for s in self.columns]
        width = self._tag_width + sum(self._widths)
        self.virtual_size = Size(width, len(self.rows) + 1)
        self.refresh()
        return f"{len(self.rows)} tags" if self.rows else ""

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            segments = [Segment("tag".ljust(self._tag_width), self.get_component_rich_style("latest-values--header"))]
            header = self.get_component_rich_style("latest-values--header")
            for name, w in zip(self.columns, self._widths):
                r, g, b = self._colours[name]
                segments.append(Segment(name.rjust(w - 1) + " ", header + Style.parse(f"bold rgb({r},{g},{b})")))
        else:
            index = y - 1 + scroll_y
            if index >= len(self.rows):
                return Strip.blank(width, self.rich_style)
            tag, values = self.rows[index]
            base = self.rich_style
            if index % 2:
                base = base + self.get_component_rich_style("latest-values--odd")
            segments = [Segment(tag.ljust(self._tag_width), base + self.get_component_rich_style("latest-values--tag"))]
            segments.extend(Segment(v.rjust(w - 1) + " ", base) for v, w in zip(values, self._widths))
        strip = Strip(segments)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)
