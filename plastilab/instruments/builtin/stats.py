"""``[instruments.stats]``: units, feature ranks, weight, gradient and update norms.

Tags (each also per layer as ``<tag>/<layer>``; docs/instruments.md defines every one):
``units/{dead,dormant,saturated,rarely_active}_fraction``, ``units/active_fraction``,
``units/dormant_fraction_layer_mean``, ``units/preact_{mean,std}``,
``features/{effective,stable,approximate}_rank``, ``features/norm``,
``features/variance_across_{units,samples}``, ``weights/{norm,rms,mean_abs,rms_change}``,
``weights/distance_from_init``, ``grads/norm``, ``grads/norm_mean``, ``updates/ratio``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from plastilab.core.memory_estimate import FLOAT, Part
from plastilab.core.schema import Strict
from plastilab.instruments.base import Instrument, Order, Measurement, MeasureRequest, SuiteInputs

if TYPE_CHECKING:
    import torch
    from torch import nn


class StatsConfig(Strict):
    """Unit, feature-rank and weight statistics; cheap enough to run at every log step."""

    every: int = Field(default=50, ge=0)
    dormant_threshold: float = Field(default=0.025, ge=0)  # τ of ReDo's dormant-unit score
    n_examples: int = Field(default=256, ge=1)


class StatsInstrument(Instrument):
    """Between measurements it keeps, per series, the parameters at the last measurement (for
    ``weights/rms_change``) and the sum of the gradient norms seen since then (for
    ``grads/norm_mean``): every call to the suite's ``measure``, due or not, adds the norm of the
    ``.grad`` the last backward left, so a loop that calls ``measure`` after every optimiser step
    (the interventions runner does) gets the mean over every step of the window.
    """

    name = "stats"
    Config = StatsConfig
    order = Order(table=2, run=1, memory=4)
    needs_finite_parameters = False  # cheap, and NaN weights are worth seeing
    needs_previous_params = True
    takes_batch = True  # a fresh gradient when no .grad is left
    needs = ("stats_inputs",)  # the fixed examples units and ranks are measured on

    @classmethod
    def memory(cls, config: StatsConfig, parameters: int, n_in: int, width: int) -> list[Part]:
        return [
            Part("instruments.stats.n_examples", "unit statistics batch", config.n_examples * (n_in + width) * FLOAT),
            # The parameters at the last measurement (weights/rms_change), one copy a series.
            Part("instruments.stats.every", "parameters at the last measurement", parameters * FLOAT),
        ]

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        super().__init__(config, inputs)
        self._last_measured: dict[str, dict[str, torch.Tensor]] = {}
        self._grad_window: dict[str, list] = {}  # series -> [sum of norms, count, last step counted]

    def observe_step(self, step: int, series: str, model: nn.Module) -> None:
        """After ``step``'s optimiser step: add the norm of its gradient to the window (once)."""
        from plastilab.instruments.weight_stats import total_gradient_norm  # deferred: pulls in torch

        window = self._grad_window.setdefault(series, [0.0, 0, 0])
        if window[2] == step:
            return
        norm = total_gradient_norm(model)
        if norm is not None:
            window[0] = window[0] + norm  # a tensor: no host sync until the measurement
            window[1] += 1
            window[2] = step

    def start(self, series: str, model: nn.Module) -> None:
        from plastilab.instruments.functional import snapshot_params  # deferred: pulls in torch

        self._last_measured[series] = snapshot_params(model)
        return None

    def measure(self, at: MeasureRequest) -> Measurement:
        from plastilab.instruments.functional import snapshot_params  # deferred: pulls in torch
        from plastilab.instruments.weight_stats import rms_change  # deferred: pulls in torch

        out = self._measure(at)
        self.observe_step(at.step, at.series, at.model)
        window = self._grad_window[at.series]
        if window[1]:
            out.scalars["grads/norm_mean"] = float(window[0]) / window[1]
        self._grad_window[at.series] = [0.0, 0, at.step]
        previous = self._last_measured.get(at.series)
        if previous is not None:
            out.scalars.update(rms_change(at.model, previous))
        self._last_measured[at.series] = snapshot_params(at.model)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_measured": {series: dict(p) for series, p in self._last_measured.items()},
            "grad_window": {series: [float(w[0]), w[1], w[2]] for series, w in self._grad_window.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._last_measured = {series: dict(p) for series, p in state.get("last_measured", {}).items()}
        self._grad_window = {series: list(w) for series, w in state.get("grad_window", {}).items()}

    def _measure(self, at: MeasureRequest) -> Measurement:
        # deferred: these pull in torch
        from plastilab.instruments import weight_stats
        from plastilab.instruments.activations import record_activity  # deferred: pulls in torch
        from plastilab.instruments.functional import loss_gradient, model_device, spread  # deferred: pulls in torch
        from plastilab.instruments.unit_stats import unit_statistics  # deferred: pulls in torch

        cfg, model, batch = self.config, at.model, at.batch
        stats_inputs = self.inputs.stats_inputs
        inputs = stats_inputs if stats_inputs is not None else (batch[0] if batch is not None else None)
        out: dict[str, float] = {}
        if inputs is not None:
            inputs = inputs[: cfg.n_examples].to(model_device(model))
            out.update(unit_statistics(record_activity(model, inputs, seed=self.inputs.seed), cfg.dormant_threshold))
        out.update(weight_stats.weight_norms(model))
        out.update(weight_stats.weight_magnitudes(model))
        if at.init_params is not None:
            out.update(weight_stats.distance_from_init(model, at.init_params))
        grads = weight_stats.gradient_norms(model)
        if not grads and at.loss_fn is not None and batch is not None:
            fresh = loss_gradient(model, at.loss_fn, spread(batch, cfg.n_examples)[0], self.inputs.seed)
            grads = weight_stats.gradient_norms(model, fresh)
        out.update(grads)
        if at.previous_params is not None:
            out.update(weight_stats.update_ratios(model, at.previous_params))
        return Measurement(out)
