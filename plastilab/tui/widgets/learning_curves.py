"""The learning curves: one line per series for the chosen scalar tag, task boundaries marked."""

from __future__ import annotations

import numpy as np

from plastilab.runtime.history import fit_to_columns
from plastilab.tui.palette import BOUNDARY_COLOUR, series_rgb
from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.chart import Chart, log10_axis, positive_log10, step_axis, value_axis
from plastilab.tui.widgets.pane import PaneView
from plastilab.tui.widgets.seed_bands import seed_groups  # noqa: F401 (the dashboard and tests import it from here)


class LearningCurves(Chart):
    def draw(self, state: RunState, view: PaneView) -> str:
        """The chosen tag of every shown series (or, over seeds, each variant's mean between the
        min and max of its seeds); the caption is the tag ("" while there is none)."""
        tag, log_y, hidden = view.tag, view.log_y, view.hidden
        if tag is None:
            self.show_placeholder(no_numbers_text(state))
            return ""
        if view.over_seeds and seed_groups(state.series):
            self._draw_over_seeds(state, tag, log_y, hidden)
            return tag
        lines = []
        for index, name in enumerate(state.series):
            history = state.scalars.get(name, {}).get(tag)
            if history is None or name in hidden:
                continue
            x, y = history.points()
            if log_y:
                x, y = positive_log10(x, y)
            if len(x) == 0:
                continue
            # a column's lowest and highest point: one point per braille dot column
            x, y = fit_to_columns(x, y, max(self.size.width, 20))
            lines.append((index, x, y))
        if not lines:
            self.show_placeholder(f"no values of {tag} yet" + (" above 0 (log scale)" if log_y else ""))
            return ""
        self.begin()
        plt = self.plt
        low = min(float(np.min(y)) for _, _, y in lines)
        high = max(float(np.max(y)) for _, _, y in lines)
        x_max = max(float(x[-1]) for _, x, _ in lines)
        for step in state.boundaries:
            if step <= x_max:
                plt.vline(step, color=BOUNDARY_COLOUR)
        for index, x, y in lines:
            plt.plot(x.tolist(), y.tolist(), marker="braille", color=series_rgb(index))
        if log_y:
            log10_axis(plt, low, high)
        else:
            value_axis(plt, low, high, self.size.height - 3)
        x_min = min(float(x[0]) for _, x, _ in lines)
        step_axis(plt, x_min, x_max, self.size.width - 6)
        self._changed()
        return tag

    def _draw_over_seeds(self, state: RunState, tag: str, log_y: bool, hidden: set[str]) -> None:
        """Per variant: the mean over its seeds (braille) between their min and max (dots), at
        the steps every shown seed has logged."""
        bands = []
        for variant, names in seed_groups(state.series).items():
            shown = [n for n in names if n not in hidden and tag in state.scalars.get(n, {})]
            if not shown:
                continue
            curves = [state.scalars[n][tag].points() for n in shown]
            x0 = curves[0][0]
            if all(len(x) == len(x0) and np.array_equal(x, x0) for x, _ in curves[1:]):
                steps = x0  # a population logs every seed at the same steps: no set to build
                values = np.stack([y for _, y in curves])
            else:
                common = set(x0.tolist()).intersection(*(x.tolist() for x, _ in curves[1:]))
                steps = np.array(sorted(common), dtype=float)
                if steps.size == 0:
                    continue
                values = np.stack([np.interp(steps, x, y) for x, y in curves])  # exact: steps are common
            index = state.series.index(names[0])
            for row in (values.min(0), values.max(0), values.mean(0)):
                x, y = (positive_log10(steps, row) if log_y else (steps, row))
                if len(x):
                    bands.append((index, *fit_to_columns(x, y, max(self.size.width, 20))))
        if not bands:
            self.show_placeholder(f"no values of {tag} yet")
            return
        self.begin()
        plt = self.plt
        x_max = max(float(x[-1]) for _, x, _ in bands)
        for step in state.boundaries:
            if step <= x_max:
                plt.vline(step, color=BOUNDARY_COLOUR)
        for i, (index, x, y) in enumerate(bands):
            plt.plot(x.tolist(), y.tolist(), marker="braille" if i % 3 == 2 else "dot", color=series_rgb(index))
        if log_y:
            log10_axis(plt, min(float(np.min(y)) for _, _, y in bands), max(float(np.max(y)) for _, _, y in bands))
        step_axis(plt, min(float(x[0]) for _, x, _ in bands), x_max, self.size.width - 6)
        self._changed()


def no_numbers_text(state: RunState) -> str:
    """What the chart says before a run's first numbers, or when it ended without any."""
    if state.state == "failed":
        return "the run failed before its first numbers: its reason is in the status panel and the log"
    if state.ended:
        return f"the run ended ({state.state}) before its first numbers"
    return "waiting for the first numbers…"
