"""The tabs under the dashboard's curves, in order: a new pane is its widget file and one line in
``PANES``."""

from __future__ import annotations

from dataclasses import dataclass

from plastilab.tui.widgets.covariance_heatmap import CovarianceHeatmap
from plastilab.tui.widgets.hessian_density_pane import HessianDensityPane
from plastilab.tui.widgets.latest_values import LatestValues
from plastilab.tui.widgets.log_pane import LogPane
from plastilab.tui.widgets.plasticity_curve import PlasticityCurve


@dataclass(frozen=True)
class PaneSpec:
    id: str  # the tab's id
    title: str  # the tab's label
    widget: type  # a widget with draw(state, view) -> caption (tui/widgets/pane.py)
    widget_id: str
    dot: bool = True  # the tab shows a dot while the pane has something to show


PANES = (
    PaneSpec("values", "Values", LatestValues, "latest", dot=False),
    PaneSpec("log", "Log", LogPane, "log-pane"),
    PaneSpec("plasticity", "Plasticity", PlasticityCurve, "plasticity-curve"),
    PaneSpec("hessian", "Hessian", HessianDensityPane, "eigen-histogram"),
    PaneSpec("covariance", "Covariance", CovarianceHeatmap, "heatmap"),
)
PANE_IDS = tuple(pane.id for pane in PANES)
OVER_TIME_PANES = ("plasticity", "hessian")  # the panes `t` turns to their checkpoints
PANE_TITLES = {pane.id: pane.title for pane in PANES}
