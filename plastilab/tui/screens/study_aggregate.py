"""The study view's aggregate pane: the chart of the finished trials' aggregate that the study's
analysis asks for (a statistic against plasticity loss, or the scaling curve), its caption, and
the keys that choose the statistic, the colouring axis and all or last probe steps.

A mixin of ``StudyViewScreen`` (its state lives on the screen, which the tests read), kept apart so
each file holds one half of the view.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from plastilab.core.safe_text import shown
from plastilab.studies.aggregate import last_probe_step_rows
from plastilab.studies.analyses import analysis_for
from plastilab.studies.analyses.base import SCALING
from plastilab.studies.scatter import colour_axes, default_colour, scatter_groups
from plastilab.tui.widgets.study_chart import StudyChart, format_r


class StudyAggregatePane:
    """Needs ``snapshot``, ``statistic``, ``colour_by``, ``last_only``, ``shown_correlation`` and
    ``_drawn_key`` on the screen it is mixed into."""

    def _show_aggregate(self, force: bool = False) -> None:
        snapshot = self.snapshot
        aggregate = snapshot.aggregate if snapshot is not None else None
        key = (id(aggregate), self.statistic, self.colour_by, self.last_only)
        if key == self._drawn_key and not force:
            return
        self._drawn_key = key
        chart = self.query_one(StudyChart)
        caption = self.query_one("#study-caption", Static)
        if aggregate is None:
            chart.show_placeholder("the aggregate appears when the first trial finishes")
            caption.update("")
            return
        if analysis_for(snapshot.analysis).chart == SCALING:
            self._show_scaling(aggregate, snapshot, chart, caption)
            return
        correlations = aggregate.correlations_last if self.last_only else aggregate.correlations
        names = [row["statistic"] for row in aggregate.correlations]
        if not aggregate.target or not names:
            chart.show_placeholder("no plasticity tag and statistics at the same checkpoints yet")
            caption.update("")
            return
        if self.statistic not in names:
            self.statistic = next((r["statistic"] for r in aggregate.correlations if math.isfinite(r["pearson"])), names[0])
        choices = colour_axes(aggregate.axis_columns)
        if self.colour_by not in choices:
            self.colour_by = default_colour(snapshot.color_by, aggregate.axis_columns)
        row = next(r for r in correlations if r["statistic"] == self.statistic)
        self.shown_correlation = row
        rows = last_probe_step_rows(aggregate.rows) if self.last_only else aggregate.rows
        groups = scatter_groups(rows, self.statistic, aggregate.target, self.colour_by)
        chart.draw_scatter(groups, self.statistic, aggregate.target)
        text = Text()
        text.append(shown(f"{aggregate.target} vs {self.statistic}", 100), style="bold")
        text.append(f"   Pearson r {format_r(row['pearson'])} [{format_r(row['pearson_low'])}, {format_r(row['pearson_high'])}]")
        text.append(f"  n {row['n']}")
        text.append("\n" + ("each trial's last checkpoint" if self.last_only else "checkpoints after step 0"), style="dim")
        text.append(f" · colour {shown(self.colour_by, 60)} · {names.index(self.statistic) + 1}/{len(names)} by |r|", style="dim")
        caption.update(text)

    def _show_scaling(self, aggregate, snapshot, chart: StudyChart, caption: Static) -> None:
        self.shown_correlation = None
        x_label = snapshot.x or "x"
        chart.draw_scaling(aggregate.scaling, x_label)
        text = Text()
        text.append(f"{aggregate.target or 'plasticity loss'} vs {x_label}", style="bold")
        ns = sorted({p["n"] for p in aggregate.scaling})
        per_point = "" if not ns else f" · n per point {ns[0]}" + (f"–{ns[-1]}" if ns[-1] != ns[0] else "")
        text.append("\nmean and 95% interval over seeds" + per_point, style="dim")
        caption.update(text)

    def _cycle_statistic(self, step: int) -> None:
        aggregate = self.snapshot.aggregate if self.snapshot is not None else None
        names = [row["statistic"] for row in aggregate.correlations] if aggregate is not None else []
        if not names:
            self.app.bell()
            return
        index = names.index(self.statistic) if self.statistic in names else -1
        self.statistic = names[(index + step) % len(names)]
        self._show_aggregate()

    def action_next_statistic(self) -> None:
        self._cycle_statistic(1)

    def action_previous_statistic(self) -> None:
        self._cycle_statistic(-1)

    def action_next_colour(self) -> None:
        aggregate = self.snapshot.aggregate if self.snapshot is not None else None
        if aggregate is None:
            self.app.bell()
            return
        choices = colour_axes(aggregate.axis_columns)
        index = choices.index(self.colour_by) if self.colour_by in choices else -1
        self.colour_by = choices[(index + 1) % len(choices)]
        self._show_aggregate()

    def action_toggle_last_probe_step(self) -> None:
        self.last_only = not self.last_only
        self._show_aggregate()
