"""The suite runs what the registry holds: an instrument is one class that declares its table's
schema, its cost and its memory; defining it registers it, and leaving a declaration out is an
error where the class is defined, never a silent zero."""

from __future__ import annotations

import pkgutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from pydantic import Field

from plastilab.core.events import Curve, Scalars
from plastilab.core.memory_estimate import Part
from plastilab.core.schema import Strict
from plastilab.instruments import base, builtin, registry
from plastilab.instruments.base import Instrument, Measurement, MeasureRequest
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.suite import InstrumentSuite
from plastilab.models.mlp import MLP


class WeightCountConfig(Strict):
    every: int = Field(default=0, ge=0)


class WeightCount(Instrument):
    """A toy instrument: the number of parameters, and a curve of the first layer's row norms."""

    name = "weight_count"
    Config = WeightCountConfig

    @classmethod
    def memory(cls, config, parameters, n_in, width):
        return []

    def measure(self, at: MeasureRequest) -> Measurement:
        rows = at.model.body.fc1.weight.detach().norm(dim=1).numpy()
        curve = Curve(at.step, at.series, "weight_count/row_norms", np.arange(len(rows), dtype=float), rows)
        return Measurement({"weight_count/parameters": float(sum(p.numel() for p in at.model.parameters()))}, [curve])


@pytest.fixture(autouse=True, scope="module")
def _forget_weight_count():
    yield
    base._REGISTERED.pop("weight_count", None)  # the rest of the session never saw it


def test_every_built_in_instrument_is_registered_in_its_order_and_keyed_by_its_table():
    assert list(registry.run_order())[:5] == ["stats", "probe", "hessian", "covariance", "policy"]
    assert list(InstrumentsConfig.model_fields) == ["probe", "stats", "hessian", "covariance", "policy"]
    for name, cls in registry.run_order().items():
        assert cls.name == name and registry.instrument_class(name) is cls
    # one module of the built-in package, one instrument, under the module's own name
    modules = sorted(m.name for m in pkgutil.iter_modules(builtin.__path__))
    assert modules == sorted(InstrumentsConfig.model_fields)
    for name in modules:
        assert registry.instrument_class(name).__module__ == f"{builtin.__name__}.{name}"


@pytest.mark.parametrize("left_out", ["name", "Config", "memory", "measure"])
def test_an_instrument_that_leaves_a_declaration_out_is_refused_where_it_is_defined(left_out):
    declared = {
        "name": "half_declared",
        "Config": WeightCountConfig,
        "memory": classmethod(lambda cls, config, parameters, n_in, width: [Part("instruments.half_declared.every", "x", 1)]),
        "measure": lambda self, at: Measurement(),
    }
    del declared[left_out]
    with pytest.raises(TypeError, match=f"instrument HalfDeclared does not declare {left_out}"):
        type("HalfDeclared", (Instrument,), declared)
    assert "half_declared" not in base._REGISTERED


def test_a_name_is_one_instrument():
    with pytest.raises(TypeError, match="the name 'stats' is taken by plastilab.instruments.builtin.stats.StatsInstrument"):
        type("OtherStats", (Instrument,), {"name": "stats", "Config": WeightCountConfig, "memory": WeightCount.memory, "measure": WeightCount.measure})


def test_a_registered_instrument_runs_on_its_period():
    config = SimpleNamespace(stats=None, probe=None, hessian=None, covariance=None, policy=None, weight_count=SimpleNamespace(every=3))
    suite = InstrumentSuite(config)
    model = MLP(4, [5], 2)
    assert suite.due(3) == {"weight_count"} and suite.due(4) == set()
    assert suite.measure(4, "s", model) == []
    scalars, curve = suite.measure(6, "s", model)
    assert isinstance(scalars, Scalars) and scalars.values == {"weight_count/parameters": 4 * 5 + 5 + 5 * 2 + 2}
    assert curve.tag == "weight_count/row_norms" and curve.series == "s" and len(curve.y) == 5
    assert suite.start("s", model) == []  # nothing at θ_0 unless an instrument says so


def test_the_suite_takes_only_the_inputs_instruments_declare():
    with pytest.raises(TypeError, match="no instrument takes the input 'prob_inputs'"):
        InstrumentSuite(InstrumentsConfig(), prob_inputs=torch.randn(2, 4))


def test_the_batch_for_measurements_fits_every_instrument_that_takes_one():
    config = InstrumentsConfig.model_validate(
        {"stats": {"every": 0, "n_examples": 96}, "covariance": {"n_examples": 16}, "probe": {"n_examples": 512}}
    )
    suite = InstrumentSuite(config, torch.randn(8, 4))
    assert suite.batch_examples() == 96  # the probe trains on its own inputs, not on the batch
    assert InstrumentSuite(InstrumentsConfig()).batch_examples(default=64) == 64
