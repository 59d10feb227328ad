"""Axes: each axis value compared on the trials' final values (``axes.csv``, which every study
writes), nothing more on disk; the study view still charts each statistic against plasticity
loss, live, as a falsification study's."""

from __future__ import annotations

from typing import Any

from plastilab.studies.analyses.base import SCATTER, AnalysisInputs, StudyAnalysis
from plastilab.studies.analyses.falsification import live_correlations


class Axes(StudyAnalysis):
    kind = "axes"
    chart = SCATTER

    def live(self, inputs: AnalysisInputs) -> dict[str, Any]:
        return live_correlations(inputs)


ANALYSIS = Axes()
