"""The [instruments] table: defaults validate, unknown keys and bad ranges are refused, no torch."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import validate_scenario
from plastilab.instruments.schema import HessianConfig, InstrumentsConfig, ProbeConfig

from paths import REPO


def test_every_table_is_optional_and_defaults_validate():
    assert InstrumentsConfig().probe is None
    full = InstrumentsConfig.model_validate({"probe": {}, "stats": {}, "hessian": {}, "covariance": {}})
    assert full.probe.probe_steps == 200 and full.hessian.top_k == 1
    assert ProbeConfig(lr=1).lr == 1.0  # an int may stand for a float


BAD = [
    ({"probe": {"evry": 10}}, "extra"),
    ({"histogram": {}}, "extra"),
    ({"probe": {"every": -1}}, "greater than or equal"),
    ({"probe": {"n_targets": 0}}, "greater than or equal"),
    ({"probe": {"lr": 0}}, "greater than"),
    ({"probe": {"family": "sine"}}, "network_regression"),
    ({"probe": {"probe_steps": "200"}}, "integer"),
    ({"stats": {"dormant_threshold": -0.1}}, "greater than or equal"),
    ({"hessian": {"lanczos_iterations": 1}}, "greater than or equal"),
    ({"hessian": {"sigma": 0}}, "greater than"),
    ({"hessian": {"top_k": 5, "lanczos_iterations": 4}}, "top_k"),
    ({"covariance": {"n_examples": 1}}, "greater than or equal"),
]


@pytest.mark.parametrize("raw,words", BAD)
def test_bad_tables_are_refused(raw, words):
    with pytest.raises(ValidationError) as info:
        InstrumentsConfig.model_validate(raw)
    assert words in str(info.value)


def test_configs_are_frozen():
    with pytest.raises(ValidationError):
        HessianConfig().top_k = 3


def test_schema_imports_no_torch():
    code = "import sys, plastilab.instruments.schema; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_validating_a_scenario_with_every_instrument_on_imports_no_torch():
    """``plastilab validate`` reads every instrument's declaration (schema and memory), not its maths."""
    on = ", ".join(f"'instruments.{name}={{every=5}}'" for name in ("probe", "stats", "hessian", "covariance", "policy"))
    code = (
        "import sys; from plastilab.cli import main; from plastilab.instruments.memory import instrument_parts\n"
        "from plastilab.core.scenario_file import load_scenario\n"
        f"config = load_scenario('scenarios/adam-tiny.toml', [{on}]).config\n"
        "assert len(instrument_parts(config, 1000, 784, 784)) == 6\n"
        "try:\n    main(['validate', 'scenarios/adam-tiny.toml'])\nexcept SystemExit as end:\n    assert not end.code\n"
        "torch = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "sys.exit(f'imported {torch[:3]}' if torch else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_top_k_above_the_iterations_names_its_key_in_the_files_one_line():
    raw = {"kind": "adam_instability", "name": "x", "instruments": {"hessian": {"top_k": 50}}}
    with pytest.raises(ScenarioError) as info:
        validate_scenario(raw, "f.toml")
    assert str(info.value) == "f.toml: instruments.hessian.top_k: found 50; allowed: a number <= lanczos_iterations (30)"
