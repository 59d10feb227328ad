"""Series names with a seed: several seeds of one variant run as ``<variant>/s<seed>``; a run of
one seed keeps the bare variant name. Every face and analysis splits names here, one way."""

from __future__ import annotations


def seeded_name(series: str, seed: int) -> str:
    return f"{series}/s{seed}"


def split_seeded_name(series: str) -> tuple[str, int | None]:
    """The inverse of ``seeded_name``: ``"adam-default/s3"`` -> ``("adam-default", 3)``; a name
    without a seed suffix -> ``(name, None)``."""
    head, sep, tail = series.rpartition("/s")
    if sep and head and tail.isdigit():
        return head, int(tail)
    return series, None
