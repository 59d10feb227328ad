"""The Hessian eigenvalue density behind the pane interface.

``EigenvalueHistogram`` keeps its own ``draw(state, log_y, hidden)``, which reads the density
under its event kind; this pane hands it the ``hessian/density`` arrays (state is keyed by tag)
in that shape, so the widget itself needs no change.
"""

from __future__ import annotations

from types import SimpleNamespace

from plastilab.runtime.run_state import RunState
from plastilab.tui.widgets.eigenvalue_histogram import EigenvalueHistogram
from plastilab.tui.widgets.pane import PaneView

TAG = "hessian/density"


class HessianDensityPane(EigenvalueHistogram):
    def draw(self, state: RunState, view: PaneView) -> str:  # type: ignore[override]
        by_kind = SimpleNamespace(arrays={"histogram": state.arrays.get(TAG, {})}, series=state.series)
        return super().draw(by_kind, view.log_y, set(view.hidden))
