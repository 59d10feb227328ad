"""The instrument interface, and the registry the suite iterates.

An instrument is a small object with a name, a period and ``measure``:

    class MyInstrument(Instrument):
        name = "mine"                       # its [instruments.mine] table
        def measure(self, at: MeasureRequest) -> Measurement:
            return Measurement({"mine/value": 1.0}, [Curve(at.step, at.series, "mine/curve", x, y)])

``InstrumentSuite`` builds one of each registered instrument whose table is present and runs the
ones due at a step (``step % period == 0``), in registry order; their scalars become one
``Scalars`` event, their arrays follow. Adding an instrument: its file (the class above), a line
in ``REGISTRY``, and its table in ``schema.InstrumentsConfig``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from plastilab.core.events import Event
from plastilab.instruments.functional import LossFn
from plastilab.instruments.plasticity_probe import LossKind


@dataclass
class Measurement:
    """What one instrument measured at one step: tagged scalars and array events."""

    scalars: dict[str, float] = field(default_factory=dict)
    arrays: list[Event] = field(default_factory=list)  # array events, and any logs worth keeping


@dataclass(frozen=True)
class SuiteInputs:
    """What a run hands every instrument when the suite is built (see ``InstrumentSuite``)."""

    seed: int = 0
    probe_inputs: torch.Tensor | None = None
    stats_inputs: torch.Tensor | None = None
    probe_loss_kind: LossKind | None = None
    probe_target_model: Callable[[], nn.Module] | None = None


@dataclass(frozen=True)
class MeasureRequest:
    """One measurement: the network of one series just after the optimiser step of ``step``.

    ``loss_fn(outputs, targets)`` and ``batch = (inputs, targets)`` define the training loss
    (None where a runner gives none); ``labels`` order a batch by class or task; ``init_params``
    is θ_0 of the series and ``previous_params`` its parameters before this step's update, when known.
    """

    step: int
    series: str
    model: nn.Module
    loss_fn: LossFn | None = None
    batch: tuple[torch.Tensor, Any] | None = None
    labels: Any = None
    init_params: dict[str, torch.Tensor] | None = None
    previous_params: dict[str, torch.Tensor] | None = None


class Instrument:
    """Base class: override ``measure`` (and ``start`` for a measurement at θ_0)."""

    name: ClassVar[str]
    needs_finite_parameters: ClassVar[bool] = True  # skipped, with a warning, on a NaN network
    needs_previous_params: ClassVar[bool] = False  # the suite copies the parameters before a due step
    takes_batch: ClassVar[bool] = False  # measures on ``MeasureRequest.batch`` (its first ``n_examples``)

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        self.config = config  # its table of the [instruments] section
        self.inputs = inputs

    @property
    def period(self) -> int:
        """Runs at every step divisible by this; 0 switches it off."""
        return getattr(self.config, "every", 0)

    def due(self, step: int) -> bool:
        return self.period > 0 and step % self.period == 0

    def start(self, series: str, model: nn.Module) -> Measurement | None:
        """Called once per series before training (step 0); None: nothing to measure at θ_0."""
        return None

    def measure(self, at: MeasureRequest) -> Measurement:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """What a run's checkpoint keeps of this instrument (tensors, numbers, text): the
        baselines it measured at the start. Most instruments keep none."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


# name -> "module:Class"; the suite runs due instruments in this order (their scalars' order in
# metrics.jsonl). The name is also the instrument's key in the [instruments] table.
REGISTRY: dict[str, str] = {
    "stats": "plastilab.instruments.suite:UnitAndWeightStats",
    "probe": "plastilab.instruments.suite:PlasticityProbeInstrument",
    "hessian": "plastilab.instruments.suite:HessianInstrument",
    "covariance": "plastilab.instruments.suite:GradientCovarianceInstrument",
    "policy": "plastilab.instruments.policy:PolicyInstrument",
}


def instrument_class(name: str) -> type[Instrument]:
    module, _, attr = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attr)
