"""What a scenario kind asks the faces to show: the kind presents itself, the faces only read.

Each kind's ``presenter.py`` (beside its runner, named in ``core.registry``) holds one
``Presentation``: its headline columns, its main learning curve, the metric a dashboard opens
on, the tags whose value is "the loss" on a progress line, and any extra summary tables (as
plain rows, which each face draws in its own way). ``plastilab report``, the progress line, the
dashboard and the runs list ask ``presentation_for(kind)`` and never name a kind themselves.

Presenters import no torch and no face library, so a face can ask without paying for either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plastilab.core.registry import SCENARIO_KINDS

# Iterations a ranking of final losses averages over, unless a scenario says otherwise. It lives
# here, in the bottom layer, because a presenter's default says it; analysis.ranking uses it too.
DEFAULT_WINDOW = 5


@dataclass(frozen=True)
class Headline:
    """A final value worth a column of the report when a run logged it."""

    tag: str
    heading: str
    format: str  # a str.format pattern, e.g. "{:.0%}"


@dataclass(frozen=True)
class Column:
    heading: str
    justify: str = "right"  # "left" | "right"


@dataclass(frozen=True)
class Cell:
    text: str
    mood: str | None = None  # "good" | "bad" | None: a face may colour it


@dataclass(frozen=True)
class SummaryTable:
    """An extra table of a run's summary, as plain text cells."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


# Instrument tags any kind may log; a kind lists the ones it shows.
PLASTICITY_LOSS = Headline("probe/plasticity_loss", "plast. loss", "{:.3g}")
TOP_EIGENVALUE = Headline("hessian/top_eigenvalue", "top eig.", "{:.3g}")
DEAD_UNITS = Headline("units/dead_fraction", "dead", "{:.0%}")


@dataclass(frozen=True)
class Presentation:
    headlines: tuple[Headline, ...] = (PLASTICITY_LOSS, TOP_EIGENVALUE, DEAD_UNITS)
    main_curve: str = "train/loss"  # the report's chart; the runs list's final value without tasks
    dashboard_metric: str = "train/loss"  # the curve a dashboard opens on (the kind's main loss)
    progress_tags: tuple[str, ...] = ("train/loss",)  # the first one logged is a progress line's loss

    def summary_tables(self, summary: dict[str, Any], scenario: dict[str, Any]) -> list[SummaryTable]:
        """Tables beyond the per-task one, from summary.json and the resolved scenario.toml."""
        return []

    def ranking_window(self, scenario: dict[str, Any]) -> int:
        """Iterations a ranking of final losses averages over, for a run of this scenario."""
        return DEFAULT_WINDOW


DEFAULT_PRESENTATION = Presentation()


def presentation_for(kind: str | None) -> Presentation:
    """The kind's own presentation; a plain one for a kind this version does not know."""
    entry = SCENARIO_KINDS.get(kind or "")
    if entry is None or entry.presenter is None:
        return DEFAULT_PRESENTATION
    return entry.load_presenter()
