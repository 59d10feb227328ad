"""The ranking of combinations by mean final loss over the last iterations, as a table.

One row a combination (a series name without its ``/s<seed>``), best first: its mean final loss
over the last iterations, the spread of that over seeds, and the change from the first
iterations (positive: the loss grew, plasticity was lost). Names take their line's colour in
the chart, so the table is the chart's legend too. A row whose seeds have finished fewer
iterations than the longest row is still running and is drawn dim; a combination hidden from
the chart is struck through.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from plastilab.analysis.ranking import RankedCombination
from plastilab.tui.palette import series_rgb
from plastilab.runtime.run_state import format_value

COLUMNS = ("#", "combination", "final loss", "± seeds", "change", "seeds", "iters")


class RankingTable(DataTable):
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "ranking-table--worse",
        "ranking-table--better",
        "ranking-table--running",
        "ranking-table--hidden",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.ranking: list[RankedCombination] = []
        self._shown: tuple | None = None

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(Text(label, justify="left" if label == "combination" else "right"), key=label)

    @property
    def selected(self) -> str | None:
        """The combination under the cursor."""
        if not self.ranking or not 0 <= self.cursor_row < len(self.ranking):
            return None
        return self.ranking[self.cursor_row].name

    def show(self, ranking: Sequence[RankedCombination], colours: dict[str, int], hidden: set[str], label: str = "combination", window: int | None = None) -> None:
        """Rebuild the rows when the ranking (or what is hidden) changed; the cursor stays on its combination.

        ``label`` heads the names: "combination" for a grid's seeds ranked together, "series" otherwise.
        A row of no more than ``window`` iterations has no change to show (its first and last
        iterations are the same ones): "–", not +0.
        """
        key = (tuple(ranking), tuple(sorted(colours.items())), frozenset(hidden), label, window)
        if key == self._shown:
            return
        self._shown = key
        self.columns["combination"].label = Text(label)
        selected = self.selected
        self.ranking = list(ranking)
        longest = max((r.n_iterations for r in ranking), default=0)
        worse = self.get_component_rich_style("ranking-table--worse", partial=True)
        better = self.get_component_rich_style("ranking-table--better", partial=True)
        running = self.get_component_rich_style("ranking-table--running", partial=True)
        struck = self.get_component_rich_style("ranking-table--hidden", partial=True)
        self.clear()
        for row in ranking:
            r, g, b = series_rgb(colours.get(row.name, 0))
            name_style = Style.parse(f"bold rgb({r},{g},{b})")
            base = Style()
            if row.n_iterations < longest:
                base += running
            if row.name in hidden:
                base += struck
                name_style = Style()
            no_change = window is not None and row.n_iterations <= window
            change = Text("–" if no_change else _signed(row.change), justify="right")
            if row.change is not None and row.name not in hidden and not no_change:
                change.stylize(worse if row.change > 0 else better)
            cells = [
                Text(str(row.rank), justify="right"),
                Text(row.name, style=name_style),
                Text(format_value(row.final_loss) if row.final_loss is not None else "not finite", justify="right"),
                Text(format_value(row.spread) if row.n_seeds > 1 else "–", justify="right"),
                change,
                Text(str(row.n_seeds), justify="right"),
                Text(str(row.n_iterations), justify="right"),
            ]
            for cell in cells:
                cell.stylize(base)
            self.add_row(*cells, key=row.name)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    text = format_value(value)
    return text if value < 0 else "+" + text
