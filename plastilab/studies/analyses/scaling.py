"""Scaling (Lyle et al. 2023, §5.1): plasticity loss at the last probe step and the task's own
final loss against the axis ``x`` (a width), mean and 95% interval over seeds (``scaling.csv``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.studies import folder
from plastilab.studies.aggregate import scaling_rows
from plastilab.studies.analyses.base import SCALING, AnalysisInputs, AnalysisSummary, AnalysisTable, ReportSection, StudyAnalysis
from plastilab.studies.analyses.report_text import fmt, interval
from plastilab.studies.schema import StudyConfig


class Scaling(StudyAnalysis):
    kind = "scaling"
    chart = SCALING

    def check(self, config: StudyConfig, axes: list[str], path: Path) -> None:
        if config.analysis.x is None and len(axes) != 1:
            allowed = ", ".join(axes) if axes else "none (the study has no axes)"
            raise ScenarioError(f"{path}: analysis.x: missing; a scaling study with {len(axes)} axes names the one to plot against: {allowed}")

    def summarise(self, inputs: AnalysisInputs) -> AnalysisSummary:
        points = scaling_rows(inputs.study, inputs.finals, inputs.target)
        return AnalysisSummary(
            entries={"scaling": {"x": inputs.settings.x, "points": points}},
            tables=[AnalysisTable(folder.SCALING, list(points[0]) if points else ["x"], points)],
        )

    def live(self, inputs: AnalysisInputs) -> dict[str, Any]:
        return {"scaling": scaling_rows(inputs.study, inputs.finals, inputs.target)}

    def report_sections(self, summary: dict[str, Any]) -> list[ReportSection]:
        scaling = summary.get("scaling")
        if not (scaling and scaling.get("points")):
            return []
        lines = [f"  {'x':>8} {'n':>3}  {'plasticity loss':<20} {'final loss':<20}"]
        for p in scaling["points"]:
            lines.append(f"  {fmt(p['x']):>8} {p['n']:>3}  {interval(p['plasticity_mean'], p['plasticity_low'], p['plasticity_high']):<20} "
                         f"{interval(p['final_loss_mean'], p['final_loss_low'], p['final_loss_high']):<20} ({p.get('final_loss_tag')})")
        return [ReportSection(f"Scaling against {scaling.get('x')} (mean ± 95% half-width, {summary['interval']}):", lines)]


ANALYSIS = Scaling()
