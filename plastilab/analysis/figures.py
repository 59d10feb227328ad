"""``plastilab figures``: every figure a run or a study folder has the numbers for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from plastilab.analysis.errors import AnalysisError
from plastilab.analysis.export import check_source
from plastilab.analysis.figure_style import FORMATS, save, styled
from plastilab.analysis.runs import load_run
from plastilab.analysis.studies import load_study


def parse_formats(text: str) -> list[str]:
    """``"png,svg"`` -> ["png", "svg"]; an unknown one is a one-line error."""
    formats = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise AnalysisError(f"--format {text}: allowed: a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def draw_figures(source: str | Path, out: str | Path | None = None, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Write the figures of ``source`` into ``out`` (default ``<source>/figures``); returns the files."""
    from plastilab.analysis.run_figures import RUN_FIGURES
    from plastilab.analysis.study_figures import STUDY_FIGURES

    source = Path(source)
    out = Path(out) if out is not None else source / "figures"
    written: list[Path] = []
    with styled():
        if check_source(source) == "study":
            study = load_study(source)
            scalars = study.scalars()
            drawn = ((stem, draw(study, scalars)) for stem, draw in STUDY_FIGURES.items())
        else:
            run = load_run(source)
            drawn = ((stem, draw(run)) for stem, draw in RUN_FIGURES.items())
        for stem, fig in drawn:
            if fig is not None:
                written += save(fig, out, stem, formats)
    return written
