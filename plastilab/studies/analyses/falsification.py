"""Falsification (Lyle et al. 2023, §3.2): every statistic against plasticity loss at the probe
steps of every trial, pooled and at each trial's last probe step; the study view and the report
draw a statistic's scatter against plasticity loss."""

from __future__ import annotations

from typing import Any

from plastilab.studies import folder
from plastilab.studies.aggregate import correlation_rows, last_probe_step_rows
from plastilab.studies.analyses.base import SCATTER, AnalysisInputs, AnalysisSummary, AnalysisTable, ReportSection, StudyAnalysis
from plastilab.studies.analyses.report_text import fmt
from plastilab.core.statistics import BOOTSTRAP_CORRELATION_LABEL

CORRELATION_COLUMNS = ["statistic", "n", "pearson", "pearson_low", "pearson_high", "spearman", "spearman_low", "spearman_high"]


def live_correlations(inputs: AnalysisInputs) -> dict[str, Any]:
    """Each statistic against plasticity loss, pooled over every probe step after step 0 and at
    each trial's last probe step only (as the study view's fields name them)."""
    if not (inputs.target and inputs.rows):
        return {}
    n_boot = inputs.settings.bootstrap
    return {
        "correlations": correlation_rows(inputs.columns, inputs.rows, inputs.target, n_boot),
        # Across agents at one time only: every statistic and plasticity both drift with training
        # time, so the pooled r partly measures time; the last probe step alone does not.
        "correlations_last": correlation_rows(inputs.columns, last_probe_step_rows(inputs.rows), inputs.target, n_boot),
    }


class Falsification(StudyAnalysis):
    kind = "falsification"
    chart = SCATTER
    scatter_in_report = True

    def summarise(self, inputs: AnalysisInputs) -> AnalysisSummary:
        found = live_correlations(inputs)
        if not found:
            return AnalysisSummary()
        pooled, last = found["correlations"], found["correlations_last"]
        return AnalysisSummary(
            # "correlations_last_checkpoint": summary.json's key for the last probe step, kept as written.
            entries={"correlations": pooled, "correlations_last_checkpoint": last, "correlation_interval": BOOTSTRAP_CORRELATION_LABEL},
            tables=[AnalysisTable(folder.CORRELATIONS, CORRELATION_COLUMNS, pooled), AnalysisTable(folder.CORRELATIONS_LAST, CORRELATION_COLUMNS, last)],
        )

    def live(self, inputs: AnalysisInputs) -> dict[str, Any]:
        return live_correlations(inputs)

    def report_sections(self, summary: dict[str, Any]) -> list[ReportSection]:
        if not summary.get("correlations"):
            return []
        sections = [ReportSection(
            f"Each statistic against {summary['target']} at the probe's checkpoints "
            f"(r with {summary.get('correlation_interval')}), sorted by |Pearson r|:",
            correlation_table(summary["correlations"]),
        )]
        if summary.get("correlations_last_checkpoint"):
            sections.append(ReportSection(
                "The same across trials at their last checkpoint only (no training-time trend in it):",
                correlation_table(summary["correlations_last_checkpoint"]),
            ))
        return sections


def correlation_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"  {'statistic':<34} {'n':>5}  {'Pearson r [95% CI]':<24} {'Spearman r [95% CI]':<24}"]
    for row in rows:
        p = f"{fmt(row['pearson'], 2)} [{fmt(row['pearson_low'], 2)}, {fmt(row['pearson_high'], 2)}]"
        s = f"{fmt(row['spearman'], 2)} [{fmt(row['spearman_low'], 2)}, {fmt(row['spearman_high'], 2)}]"
        lines.append(f"  {row['statistic']:<34} {row['n']:>5}  {p:<24} {s:<24}")
    return lines


ANALYSIS = Falsification()
