"""What the faces show of an interventions run: each series' final losses, and the ranking of
the combinations (from summary.json, where the runner's end summary keeps it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plastilab.analysis.ranking import DEFAULT_WINDOW
from plastilab.core.presentation import DEAD_UNITS, PLASTICITY_LOSS, TOP_EIGENVALUE, Cell, Column, Headline, Presentation, SummaryTable

# A classification stream's accuracy on its task at the task's end (permuted MNIST's "accuracy per
# task"); a face shows it only for a run that logged it, so regression runs keep their columns.
ACCURACY = Headline("task/final_accuracy", "accuracy", "{:.0%}")
WORSE_BY = 0.1  # a change of the final loss above this reads as lost plasticity


@dataclass(frozen=True)
class InterventionsPresentation(Presentation):
    def summary_tables(self, summary: dict[str, Any], scenario: dict[str, Any]) -> list[SummaryTable]:
        extra = summary.get("scenario_summary") or {}
        ranking = extra.get("ranking") if isinstance(extra, dict) else None
        if not ranking:
            return []
        window = extra.get("ranking_window", "?")
        columns = (Column("rank"), Column("combination", "left"), Column("final loss"), Column("± seeds"), Column("change"))
        rows = []
        for r in ranking:
            change = r.get("change")
            mood = "bad" if change and change > WORSE_BY else "good"
            rows.append((
                Cell(str(r["rank"])),
                Cell(str(r["name"])),
                Cell(_number(r.get("final_loss"))),
                Cell(_number(r.get("spread"))),
                Cell("nan" if change is None else f"{change:+.3f}", mood),
            ))
        title = f"ranking: mean final loss over the last {window} iterations (change: from the first {window})"
        return [SummaryTable(title, columns, tuple(rows))]

    def ranking_window(self, scenario: dict[str, Any]) -> int:
        ranking = scenario.get("ranking")
        window = ranking.get("window", DEFAULT_WINDOW) if isinstance(ranking, dict) else DEFAULT_WINDOW
        return window if isinstance(window, int) and not isinstance(window, bool) and window >= 1 else DEFAULT_WINDOW


def _number(value: float | None) -> str:
    return "nan" if value is None else f"{value:.3f}"


PRESENTATION = InterventionsPresentation(
    headlines=(ACCURACY, PLASTICITY_LOSS, TOP_EIGENVALUE, DEAD_UNITS),
    main_curve="train/loss",
    dashboard_metric="train/loss",
    progress_tags=("train/loss",),
)
