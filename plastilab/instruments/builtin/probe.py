"""``[instruments.probe]``: the plasticity probe (paper §2) at every ``every`` steps.

Tags: ``probe/{initial,final}_loss`` (raw, before and after the probe's training),
``probe/{initial,final}_loss_scaled`` (scale-free), ``probe/plasticity_loss`` (scale-free final
loss minus its value at θ_0), ``probe/plasticity_loss_raw``, a ``Curve`` ``probe/curve`` (mean
over the K targets) and a ``Matrix`` ``probe/target_curves`` (one row a target's curve). The
maths is ``plastilab.instruments.plasticity_probe``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from plastilab.core.events import Curve, Matrix
from plastilab.core.memory_estimate import ACTIVATION_COPIES, FLOAT, PARAM_COPIES, Part
from plastilab.core.schema import Strict
from plastilab.instruments.base import Instrument, Order, Measurement, MeasureRequest, SuiteInputs

if TYPE_CHECKING:
    import torch
    from torch import nn

    from plastilab.core.events import Event

ProbeFamily = Literal["network_regression", "high_frequency", "random_labels"]


class ProbeConfig(Strict):
    """The plasticity probe (paper §2): train a copy on K fresh targets, report its final loss.

    ``network_regression`` regresses (MSE) onto a freshly initialised network of the same shape;
    ``high_frequency`` onto ``sin(frequency * that) + offset``, which sits off the network's
    inductive bias; ``random_labels`` fits random class labels with cross-entropy.
    """

    every: int = Field(default=1000, ge=0)
    family: ProbeFamily = "network_regression"
    n_targets: int = Field(default=8, ge=1)  # K target functions, trained together
    probe_steps: int = Field(default=200, ge=1)  # the paper uses 2000; 200 suits a CPU
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    n_examples: int = Field(default=512, ge=1)  # inputs the targets are defined on
    frequency: float = Field(default=1e5, gt=0)  # high_frequency only
    offset: float = Field(default=1.0)  # high_frequency only


class ProbeInstrument(Instrument):
    """The probe of one run: a baseline per series at θ_0, then a probe at every due step."""

    name = "probe"
    Config = ProbeConfig
    order = Order(table=1, run=2, memory=1)
    # the examples the targets are defined on; the loss and target network where the run's differ
    needs = ("probe_inputs", "probe_loss_kind", "probe_target_model")

    @classmethod
    def memory(cls, config: ProbeConfig, parameters: int, n_in: int, width: int) -> list[Part]:
        # A trained copy with its own head of n_targets outputs, and its examples and targets.
        copy = PARAM_COPIES * parameters * FLOAT
        data = config.n_examples * (n_in + config.n_targets) * FLOAT
        batch = config.batch_size * width * ACTIVATION_COPIES * FLOAT
        return [Part("instruments.probe.n_examples", "plasticity probe", copy + data + batch)]

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        from plastilab.instruments.plasticity_probe import ConfiguredProbe  # deferred: pulls in torch

        super().__init__(config, inputs)
        if inputs.probe_inputs is None:
            raise ValueError("the plasticity probe is on but no probe_inputs were given")
        self.probe = ConfiguredProbe(
            inputs.probe_inputs, config, inputs.seed, loss_kind=inputs.probe_loss_kind, target_model=inputs.probe_target_model
        )
        self._baseline: dict[str, tuple[float, float]] = {}  # series -> (raw, scale-free) loss at θ_0
        # ((architecture, state_dict) at θ_0, baseline scalars, baseline arrays) of each start probed
        self._probed_starts: list[tuple[tuple[str, dict[str, torch.Tensor]], dict[str, float], list[Event]]] = []

    def start(self, series: str, model: nn.Module) -> Measurement:
        """The baseline at θ_0; a network probed before (bit for bit) reuses its numbers."""
        from plastilab.instruments.functional import same_state  # deferred: pulls in torch

        start = (repr(model), {name: t.detach().clone() for name, t in model.state_dict().items()})
        for known, values, arrays in self._probed_starts:
            if known[0] == start[0] and same_state(known[1], start[1]):
                break
        else:
            measured = self._probe(0, series, model)
            values = measured.scalars
            values["probe/plasticity_loss"] = values["probe/plasticity_loss_raw"] = 0.0
            arrays = measured.arrays
            self._probed_starts.append((start, values, arrays))
        self._baseline[series] = (values["probe/final_loss"], values["probe/final_loss_scaled"])
        return Measurement(dict(values), [replace(array, series=series) for array in arrays])

    def measure(self, at: MeasureRequest) -> Measurement:
        return self._probe(at.step, at.series, at.model)

    def state_dict(self) -> dict[str, Any]:
        probe = self.probe
        return {
            "baseline": {series: list(values) for series, values in self._baseline.items()},
            # The probe's K tasks, drawn at the baseline: kept rather than drawn again, so a
            # resumed run probes exactly the tasks the first start drew.
            "task": None if probe._targets is None else [probe._inputs, probe._targets, probe._scales],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._baseline = {series: (float(raw), float(scaled)) for series, (raw, scaled) in state["baseline"].items()}
        if state["task"] is not None:
            self.probe._inputs, self.probe._targets, self.probe._scales = state["task"]

    def _probe(self, step: int, series: str, model: nn.Module) -> Measurement:


        result = self.probe.measure(model)
        x = np.arange(1, len(result.curve) + 1, dtype=np.float64)
        curve = Curve(step, series, "probe/curve", x, result.curve.astype(np.float64))
        targets = result.target_curves.astype(np.float64)
        by_target = Matrix(step, series, "probe/target_curves", targets, tuple(f"target {k + 1}" for k in range(len(targets))))
        out = {
            "probe/final_loss": result.final_loss,
            "probe/initial_loss": result.initial_loss,
            "probe/final_loss_scaled": result.final_loss_scaled,
            "probe/initial_loss_scaled": result.initial_loss_scaled,
        }
        if series in self._baseline:
            raw, scaled = self._baseline[series]
            out["probe/plasticity_loss"] = result.final_loss_scaled - scaled
            out["probe/plasticity_loss_raw"] = result.final_loss - raw
        return Measurement(out, [curve, by_target])
