"""Adding an instrument is one class: this module's ``ParameterNorm`` (defined here, not under
``plastilab/``) is registered by being defined, accepted under ``[instruments.parameter_norm]``
in a scenario file, counted in the memory estimate, and measured in a short run whose folder
holds its metric, with no other edit anywhere."""

from __future__ import annotations

import pytest
from pydantic import Field

from plastilab.core.driver import drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import RunFinished
from plastilab.core.memory_estimate import FLOAT, Part
from plastilab.core.scenario_file import load_scenario
from plastilab.core.schema import Strict
from plastilab.instruments import base, registry
from plastilab.instruments.base import Instrument, Measurement, MeasureRequest
from plastilab.instruments.memory import instrument_parts
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.rundir.writer import RunFolderWriter


class ParameterNormConfig(Strict):
    every: int = Field(default=0, ge=0)
    scale: float = Field(default=1.0, gt=0)


class ParameterNorm(Instrument):
    """``scale`` times the L2 norm of every parameter together."""

    name = "parameter_norm"
    Config = ParameterNormConfig

    @classmethod
    def memory(cls, config, parameters, n_in, width):
        return [Part("instruments.parameter_norm.every", "squared parameters", parameters * FLOAT)]

    def measure(self, at: MeasureRequest) -> Measurement:
        squares = sum(float((p.detach().double() ** 2).sum()) for p in at.model.parameters())
        return Measurement({"parameter_norm/value": self.config.scale * squares**0.5})


@pytest.fixture(autouse=True, scope="module")
def _forget_parameter_norm():
    yield
    base._REGISTERED.pop("parameter_norm", None)  # the rest of the session never saw it


SCENARIO = """
kind = "adam_instability"
name = "one-more-instrument"
seed = 0
[data]
n_images = 64
[model]
hidden = [16]
[training]
n_tasks = 1
steps_per_task = 20
batch_size = 16
log_every = 10
[variants.adam]
optimizer = "adam"
[instruments.parameter_norm]
every = 10
scale = 2.0
"""


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "one-more-instrument.toml"
    path.write_text(SCENARIO)
    return path


def test_defining_the_class_registers_it():
    assert registry.instrument_class("parameter_norm") is ParameterNorm


def test_its_table_is_read_from_a_scenario_file_and_checked(scenario_file):
    config = load_scenario(scenario_file).config
    assert config.instruments.parameter_norm == ParameterNormConfig(every=10, scale=2.0)
    with pytest.raises(ScenarioError, match=r"instruments\.parameter_norm\.scale: found -1"):
        load_scenario(scenario_file, ["instruments.parameter_norm.scale=-1"])
    with pytest.raises(ScenarioError, match=r"instruments\.parameter_nrom"):
        load_scenario(scenario_file, ["instruments.parameter_nrom={every=1}"])


def test_it_is_counted_in_the_memory_estimate(scenario_file):
    config = load_scenario(scenario_file).config
    parts = instrument_parts(config, parameters=1000, n_in=784, width=784)
    assert parts == [Part("instruments.parameter_norm.every", "squared parameters", 1000 * FLOAT)]
    off = load_scenario(scenario_file, ["instruments.parameter_norm.every=0"]).config
    assert instrument_parts(off, parameters=1000, n_in=784, width=784) == []


def test_a_short_run_measures_it_into_the_run_folder(scenario_file, tmp_path):
    scenario = load_scenario(scenario_file)
    run_dir = tmp_path / "run"
    assert isinstance(drive(scenario, [RunFolderWriter(run_dir, scenario)], run_dir=str(run_dir)), RunFinished)
    measured = [r for r in read_jsonl(run_dir / layout.METRICS) if r["tag"] == "parameter_norm/value"]
    assert [r["step"] for r in measured] == [10, 20]
    assert all(r["series"] == "adam" and r["value"] > 0 for r in measured)
    # and the run folder's copy of the scenario keeps its table
    assert "[instruments.parameter_norm]" in (run_dir / layout.SCENARIO).read_text()
