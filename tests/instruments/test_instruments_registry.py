"""The suite iterates the instrument registry: a new instrument is a class behind the one
interface (name, period, measure -> scalars and array events) plus a registry line."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from plastilab.core.events import Curve, Scalars
from plastilab.instruments import base
from plastilab.instruments.base import Instrument, Measurement, MeasureRequest
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP


class WeightCount(Instrument):
    """A toy instrument: the number of parameters, and a curve of the first layer's row norms."""

    name = "weight_count"

    def measure(self, at: MeasureRequest) -> Measurement:
        rows = at.model.body.fc1.weight.detach().norm(dim=1).numpy()
        curve = Curve(at.step, at.series, "weight_count/row_norms", np.arange(len(rows), dtype=float), rows)
        return Measurement({"weight_count/parameters": float(sum(p.numel() for p in at.model.parameters()))}, [curve])


def test_every_built_in_instrument_is_registered_and_keyed_by_its_table():
    assert list(base.REGISTRY) == ["stats", "probe", "hessian", "covariance", "policy"]
    for name in base.REGISTRY:
        assert base.instrument_class(name).name == name
        assert name in InstrumentsConfig.model_fields


def test_a_registered_instrument_runs_on_its_period(monkeypatch):
    monkeypatch.setitem(base.REGISTRY, "weight_count", f"{__name__}:WeightCount")
    config = SimpleNamespace(stats=None, probe=None, hessian=None, covariance=None, policy=None, weight_count=SimpleNamespace(every=3))
    suite = InstrumentSuite(config)
    model = MLP(4, [5], 2)
    assert suite.due(3) == {"weight_count"} and suite.due(4) == set()
    assert suite.measure(4, "s", model) == []
    scalars, curve = suite.measure(6, "s", model)
    assert isinstance(scalars, Scalars) and scalars.values == {"weight_count/parameters": 4 * 5 + 5 + 5 * 2 + 2}
    assert curve.tag == "weight_count/row_norms" and curve.series == "s" and len(curve.y) == 5
    assert suite.start("s", model) == []  # nothing at θ_0 unless an instrument says so


def test_the_batch_for_measurements_fits_every_instrument_that_takes_one():
    config = InstrumentsConfig.model_validate(
        {"stats": {"every": 0, "n_examples": 96}, "covariance": {"n_examples": 16}, "probe": {"n_examples": 512}}
    )
    suite = InstrumentSuite(config, torch.randn(8, 4))
    assert suite.batch_examples() == 96  # the probe trains on its own inputs, not on the batch
    assert InstrumentSuite(InstrumentsConfig()).batch_examples(default=64) == 64
