"""``plastilab figures``: every figure a run or a study folder has the numbers for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from plastilab.analysis.errors import AnalysisError
from plastilab.analysis.export import check_source
from plastilab.analysis.figure_style import FORMATS, save, styled
from plastilab.analysis.run_figures import RUN_FIGURES
from plastilab.analysis.runs import load_run
from plastilab.analysis.studies import load_study
from plastilab.analysis.study_figures import STUDY_FIGURES


def parse_formats(text: str) -> list[str]:
    """``"png,svg"`` -> ["png", "svg"]; an unknown one is a one-line error."""
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise AnalysisError(f"--format {text}: allowed: a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def build_figures(source: str | Path, each_seed: bool = False) -> Iterator[tuple[str, Any]]:
    """(file stem, figure) for every figure ``source`` has the numbers for; call inside ``styled()``.

    ``each_seed``: each seed as a thin line under the mean (runs; a study's points are its agents).
    """

    source = Path(source)
    if check_source(source) == "study":
        study = load_study(source)
        for stem, draw in STUDY_FIGURES.items():
            fig = draw(study)
            if fig is not None:
                yield stem, fig
        return
    run = load_run(source)
    for stem, draw in RUN_FIGURES.items():
        fig = draw(run, each_seed=each_seed)
        if fig is not None:
            yield stem, fig


def draw_figures(source: str | Path, out: str | Path | None = None, formats: Sequence[str] = ("png",), each_seed: bool = False) -> list[Path]:
    """Write the figures of ``source`` into ``out`` (default ``<source>/figures``); returns the files."""
    out = Path(out) if out is not None else Path(source) / "figures"
    written: list[Path] = []
    with styled():
        for stem, fig in build_figures(source, each_seed):
            written += save(fig, out, stem, formats)
    return written
