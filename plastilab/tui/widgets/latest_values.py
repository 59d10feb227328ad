"""The latest value of every scalar tag: one row a tag, one column a series, header kept on top.

The scenario kind's own numbers come first (its main loss, then its headline tags, as its
presenter declares them), then every other tag grouped by slash prefix. Series are headed by the
names the dashboard chose for the width (``PaneView.names``), so every series fits at 80 columns
when it can; long tags are shortened in the middle, keeping both ends.

Drawn line by line (Textual's line API) from plain fixed-width text, which costs a fraction of
a millisecond, so it can follow every batch of a fast run; it scrolls when the tags outgrow it.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from plastilab.core.presentation import presentation_for
from plastilab.tui.palette import series_rgb
from plastilab.tui.series_names import abbreviate
from plastilab.tui.widgets.pane import PaneView
from plastilab.runtime.run_state import RunState, format_value

VALUE_WIDTH = 9  # "-1.23e-05": the longest format_value writes
TAG_WIDTH_MAX = 28
TAG_WIDTH_MIN = 16  # the tag column gives way down to this, so every series fits


def first_tags(kind: str | None) -> tuple[str, ...]:
    """The tags a kind's presenter puts first: its dashboard metric, main curve, progress loss, headlines."""
    shown = presentation_for(kind)
    ordered = (shown.dashboard_metric, shown.main_curve, *shown.progress_tags, *(h.tag for h in shown.headlines))
    return tuple(dict.fromkeys(ordered))


def ordered_tags(tags: list[str], kind: str | None) -> list[str]:
    first = [t for t in first_tags(kind) if t in tags]
    return first + [t for t in tags if t not in first]


def fit_tag(tag: str, width: int) -> str:
    """``tag`` in at most ``width`` characters: its words shortened (the series' rule), else its
    middle replaced by …"""
    for letters in (None, 6, 5, 4, 3):
        short = abbreviate(tag, letters)
        if len(short) <= width:
            return short
    head = (width - 1) // 2
    return tag[:head] + "…" + tag[len(tag) - (width - 1 - head) :]


def series_width(names: list[str]) -> int:
    return sum(max(VALUE_WIDTH, len(n)) + 1 for n in names)


def tag_width(tags: list[str], room: int | None, names: list[str]) -> int:
    """The tag column: the longest tag up to TAG_WIDTH_MAX, narrower (to TAG_WIDTH_MIN) when the series need the room."""
    width = min(TAG_WIDTH_MAX, max([len("tag")] + [len(t) for t in tags])) + 1
    if room is not None:
        width = max(min(width, TAG_WIDTH_MIN + 1), min(width, room - series_width(names)))
    return width


def table_width(names: list[str], tags: list[str], room: int | None = None) -> int:
    """Columns the table takes with these series names, in ``room`` columns when given."""
    return tag_width(tags, room, names) + series_width(names)


class LatestValues(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"latest-values--header", "latest-values--tag", "latest-values--odd"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns: list[str] = []
        self._headings: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []  # (tag, values as text)
        self._tag_width = 12
        self._widths: list[int] = []

    def draw(self, state: RunState, view: PaneView) -> str:
        """Every tag's latest value; the caption counts the tags."""
        hidden = view.hidden
        self.columns = [s for s in state.series if s not in hidden]
        self._colours = {s: series_rgb(i) for i, s in enumerate(state.series)}
        self._headings = [view.name(s) for s in self.columns]
        tags = ordered_tags(state.tags(), state.kind)
        self._tag_width = tag_width(tags, self.size.width - 1 if self.size.width else None, self._headings)
        self.rows = [(fit_tag(tag, self._tag_width - 1), [format_value(state.latest.get(s, {}).get(tag)) for s in self.columns]) for tag in tags]
        self._widths = [max(VALUE_WIDTH, len(h)) + 1 for h in self._headings]
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
        # Only the columns up to the right edge: a population's 128 series are ~1,300 columns wide,
        # and building every cell of every line only to crop them cost several ms a redraw.
        shown = len(self.columns)
        for i, right in enumerate(np.cumsum([self._tag_width, *self._widths])[1:]):
            if right - self._widths[i] >= scroll_x + width:
                shown = i
                break
        if y == 0:
            segments = [Segment("tag".ljust(self._tag_width), self.get_component_rich_style("latest-values--header"))]
            header = self.get_component_rich_style("latest-values--header")
            for name, heading, w in zip(self.columns[:shown], self._headings, self._widths):
                r, g, b = self._colours[name]
                segments.append(Segment(heading.rjust(w), header + Style.parse(f"bold rgb({r},{g},{b})")))
        else:
            index = y - 1 + scroll_y
            if index >= len(self.rows):
                return Strip.blank(width, self.rich_style)
            tag, values = self.rows[index]
            base = self.rich_style
            if index % 2:
                base = base + self.get_component_rich_style("latest-values--odd")
            segments = [Segment(tag.ljust(self._tag_width), base + self.get_component_rich_style("latest-values--tag"))]
            segments.extend(Segment(v.rjust(w), base) for v, w in zip(values[:shown], self._widths))
        strip = Strip(segments)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)
