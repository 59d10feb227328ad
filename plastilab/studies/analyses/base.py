"""What a study analysis is: a presenter like a scenario kind's, but for a whole study.

Each analysis says what the study file must name for it (``check``), what it adds to the study's
aggregate (``summarise``: summary.json entries and CSV files), what the study view computes live
and charts (``live``, ``chart``), what ``plastilab report`` prints (``report_sections``). The
faces draw; they never name a kind. (The library's figures, ``analysis/study_figures.py``, sit a
layer below and read the study file's ``[analysis]`` table as data instead.)
Face-free: no textual, rich or matplotlib here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from plastilab.studies.probe_table import final_values
from plastilab.studies.schema import AnalysisConfig, StudyConfig
from plastilab.studies.study_file import StudyPlan

# The study view's charts (``tui.widgets.study_chart``): a statistic against plasticity loss per
# probe step, or the mean and interval of plasticity loss per value of ``x``.
SCATTER = "scatter"
SCALING = "scaling"


@dataclass
class AnalysisInputs:
    """The finished trials as an analysis reads them: the tidy table (one row per trial, series
    and probe step) and each trial's probe-step data."""

    study: StudyPlan
    columns: list[str]
    rows: list[dict[str, Any]]
    target: str | None  # the plasticity tag the trials logged
    probe_steps: dict[str, dict]  # trial id -> its probe-step file's data

    @property
    def settings(self) -> AnalysisConfig:
        return self.study.config.analysis

    @cached_property
    def finals(self) -> list[dict[str, Any]]:
        """Each trial and series' final values (plasticity at its last probe step)."""
        return final_values(self.study, self.probe_steps)


@dataclass(frozen=True)
class AnalysisTable:
    """A CSV file the analysis adds to the study folder."""

    file: str
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class AnalysisSummary:
    entries: dict[str, Any] = field(default_factory=dict)  # added to summary.json, in this order
    tables: list[AnalysisTable] = field(default_factory=list)  # written, and listed under "files"


@dataclass(frozen=True)
class ReportSection:
    """A block of ``plastilab report``: a heading line, then its lines, as plain text."""

    heading: str
    lines: list[str]


class StudyAnalysis:
    """The plainest analysis: nothing beyond the per-axis-value comparison every study gets."""

    kind = ""
    chart = SCATTER  # what the study view draws of the live aggregate
    scatter_in_report = False  # the report draws a statistic's scatter after this analysis's sections

    def check(self, config: StudyConfig, axes: list[str], path: Path) -> None:
        """Raise a one-line ``ScenarioError`` when the study file lacks what this analysis needs."""

    def summarise(self, inputs: AnalysisInputs) -> AnalysisSummary:
        return AnalysisSummary()

    def live(self, inputs: AnalysisInputs) -> dict[str, Any]:
        """The study view's fields of ``snapshot.Aggregate`` beyond the table, computed in memory."""
        return {}

    def report_sections(self, summary: dict[str, Any]) -> list[ReportSection]:
        return []
