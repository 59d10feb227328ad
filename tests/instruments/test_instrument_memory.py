"""The instruments' memory, declared by each instrument, is the table ``core.memory_estimate``
kept for them: the same parts in the same order for every scenario file, as written and with
every instrument on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from plastilab.core import memory_estimate
from plastilab.core.scenario_file import load_scenario
from plastilab.instruments.memory import instrument_parts

ROOT = next(folder for folder in Path(__file__).parents if (folder / "scenarios").is_dir())
# the scenario files (the others in scenarios/ are studies: their trials are these kinds again)
SCENARIOS = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if tomllib.loads(p.read_text())["kind"] != "study"]
EVERY_INSTRUMENT_ON = [f"instruments.{name}={{every=7}}" for name in ("probe", "stats", "hessian", "covariance", "policy")]
NETWORKS = [(1_000, 784, 784), (123_456, 3072, 4096)]  # (parameters, n_in, width)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.parametrize("overrides", [[], EVERY_INSTRUMENT_ON], ids=["as written", "all on"])
def test_the_declared_memory_is_the_estimates_table(path, overrides, monkeypatch):
    config = load_scenario(path, overrides).config
    for network in NETWORKS:
        assert instrument_parts(config, *network) == memory_estimate._instruments(config, *network)
    if overrides:
        assert {p.key.split(".")[1] for p in instrument_parts(config, *NETWORKS[0])} == {"probe", "stats", "hessian", "covariance"}
    # and the estimate a person sees (sorted, biggest first) is the same with either
    before = memory_estimate.estimate(config)
    monkeypatch.setattr(memory_estimate, "_instruments", instrument_parts)
    assert memory_estimate.estimate(config) == before


def test_no_instruments_no_memory():
    assert instrument_parts(object(), 10, 10, 10) == []
