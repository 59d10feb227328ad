"""The dashboard's legend: one line naming each series in its colour."""

from __future__ import annotations

from rich.text import Text

from plastilab.tui.palette import series_style


def legend_text(series: list[str], names: dict[str, str], hidden: set[str]) -> Text:
    """One line: each series' colour and name; shortened names sit closer together."""
    shortened = any(names.get(s, s) != s for s in series)
    legend = Text(no_wrap=True, overflow="ellipsis")
    for index, name in enumerate(series):
        if legend:
            legend.append(" " if shortened else "  ")
        style = "dim strike" if name in hidden else series_style(index)
        legend.append(("━" if shortened else "━ ") + names.get(name, name), style=style)
    return legend
