"""The instruments' memory, declared by each instrument, gives the estimate ``core.memory_estimate``
gave when it kept a table of them: every part of every scenario file, as written and with every
instrument on, equals tests/data/memory_estimates.json (recorded from that table before it went)."""

from __future__ import annotations

import json
import tomllib

import pytest

from plastilab.core import memory_estimate
from plastilab.core.scenario_file import load_scenario
from plastilab.instruments.memory import instrument_parts

from paths import REPO as ROOT

# the scenario files (the others in scenarios/ are studies: their trials are these kinds again)
SCENARIOS = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if tomllib.loads(p.read_text())["kind"] != "study"]
EVERY_INSTRUMENT_ON = [f"instruments.{name}={{every=7}}" for name in ("probe", "stats", "hessian", "covariance", "policy")]
NETWORKS = [(1_000, 784, 784), (123_456, 3072, 4096)]  # (parameters, n_in, width)


RECORDED = json.loads((ROOT / "tests" / "data" / "memory_estimates.json").read_text())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.parametrize("overrides", [[], EVERY_INSTRUMENT_ON], ids=["as written", "all on"])
def test_the_estimate_is_the_one_recorded_before_instruments_declared_their_memory(path, overrides):
    config = load_scenario(path, overrides).config
    recorded = RECORDED[f"{path.stem} / {'all on' if overrides else 'as written'}"]
    assert [[p.key, p.what, p.bytes] for p in memory_estimate.estimate(config)] == recorded
    # the instruments' own parts are among them
    for network in NETWORKS:
        assert all(p.key.startswith("instruments.") for p in instrument_parts(config, *network))
    if overrides:
        assert {p.key.split(".")[1] for p in instrument_parts(config, *NETWORKS[0])} == {"probe", "stats", "hessian", "covariance"}


def test_every_scenario_file_has_a_recorded_estimate():
    assert {key.split(" / ")[0] for key in RECORDED} == {p.stem for p in SCENARIOS}


def test_no_instruments_no_memory():
    assert instrument_parts(object(), 10, 10, 10) == []
