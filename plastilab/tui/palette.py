"""Series colours: the Okabe–Ito palette, readable on light and dark backgrounds alike."""

from __future__ import annotations

SERIES_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),  # blue
    (213, 94, 0),  # vermillion
    (0, 158, 115),  # bluish green
    (204, 121, 167),  # reddish purple
    (230, 159, 0),  # orange
    (86, 180, 233),  # sky blue
    (150, 150, 150),  # grey
    (170, 120, 60),  # brown
)
BOUNDARY_COLOUR = (140, 140, 140)


def series_rgb(index: int) -> tuple[int, int, int]:
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def series_style(index: int) -> str:
    r, g, b = series_rgb(index)
    return f"bold rgb({r},{g},{b})"
