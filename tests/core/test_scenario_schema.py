"""Bad scenario input gives one line naming the file, the key, what was found and what is allowed."""

import subprocess
import sys
from pathlib import Path

import pytest

from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import apply_override, load_scenario

BAD_OVERRIDES = [
    # (override, key named in the message, words the message must contain)
    ("training.lrr=1", "training.lrr", "unknown key"),
    ("training.lr=-1", "training.lr", "> 0"),
    ('training.lr="fast"', "training.lr", "found 'fast'"),
    ("training.steps_per_task=0", "training.steps_per_task", ">= 1"),
    ("training.n_tasks=2.5", "training.n_tasks", "found 2.5"),
    ("variants.sgd.optimizer=rmsprop", "variants.sgd.optimizer", "'adam' or 'sgd'"),
    ("variants.sgd.beta2=1.5", "variants.sgd.beta2", "< 1"),
    ("data.dataset=imagenet", "data.dataset", "mnist-5k"),
    ("data.n_images=3", "data.n_images", ">= 10"),
    ("seed=-1", "seed", ">= 0"),
    ("device=tpu", "device", "'cuda'"),
    ("model.hidden=5", "model.hidden", "list"),
    ("model.activation=swish", "model.activation", "'relu'"),
    ("kind=nonsense", "kind", "adam_instability"),
    ("model.hidden=[-3]", "model.hidden.0", ">= 1"),
    ("training.lr=inf", "training.lr", "finite"),
    ("variants.adam-default.eps=nan", "variants.adam-default.eps", "finite"),
    ("seed=4294967296", "seed", "< 4294967296"),
    ('name="x[/y]"', "name", "pattern"),
]


@pytest.mark.parametrize("override,key,words", BAD_OVERRIDES)
def test_bad_values_name_file_key_and_what_is_allowed(tiny_scenario_path, override, key, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tiny_scenario_path, [override])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{tiny_scenario_path}: {key}:")
    assert words in message


def test_unknown_key_lists_the_allowed_keys(tiny_scenario_path):
    with pytest.raises(ScenarioError, match="allowed here: n_tasks, steps_per_task, batch_size, lr"):
        load_scenario(tiny_scenario_path, ["training.lrr=1"])


def test_unknown_key_inside_a_named_variant_lists_variant_keys(tiny_scenario_path):
    with pytest.raises(ScenarioError, match=r"variants\.sgd\.beta3: unknown key; allowed here: optimizer, lr"):
        load_scenario(tiny_scenario_path, ["variants.sgd.beta3=0.1"])


def test_file_level_errors(tmp_path):
    cases = {
        "broken.toml": ('kind = "adam_instability"\nname = [\n', "not valid TOML"),
        "wrongtype.toml": ('kind = "adam_instability"\nname = 3\n', "name: found 3"),
        "nokind.toml": ('name = "x"\n', "kind: found nothing"),
        "typo.toml": ('kind = "adam_instability"\nname = "x"\n[trainin]\nlr = 1\n', "trainin: unknown key"),
    }
    for filename, (text, words) in cases.items():
        path = tmp_path / filename
        path.write_text(text)
        with pytest.raises(ScenarioError, match=words):
            load_scenario(path)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.toml")


def test_override_parses_toml_values_and_bare_words():
    raw = {"training": {"lr": 1.0}}
    apply_override(raw, "training.lr=3e-4", "f")
    apply_override(raw, "model.hidden=[64, 64]", "f")
    apply_override(raw, "device=cpu", "f")
    assert raw == {"training": {"lr": 3e-4}, "model": {"hidden": [64, 64]}, "device": "cpu"}
    with pytest.raises(ScenarioError, match="is a float, not a table"):
        apply_override(raw, "training.lr.x=1", "f")


def test_defaults_fill_in_and_overrides_apply(tiny_scenario_path):
    scenario = load_scenario(tiny_scenario_path, ["training.lr=0.01"], seed=7)
    config = scenario.config
    assert config.training.lr == 0.01 and config.seed == 7
    assert config.series() == ["adam-default", "adam-beta2-eps", "sgd"]
    assert config.total_steps() == config.training.n_tasks * config.training.steps_per_task


def test_every_shipped_scenario_validates():
    from plastilab.studies.study_file import is_study_file

    for path in sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml")):
        if not is_study_file(path):  # studies are checked in test_studies_file.py
            load_scenario(path)


def test_cli_bad_input_is_one_line_and_exit_code_2(tiny_scenario_path, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "plastilab", "run", str(tiny_scenario_path), "--set", "training.lr=-1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr
    assert "training.lr: found -1" in result.stderr
    assert not any(tmp_path.iterdir())  # nothing half-made left behind


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "plastilab", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_cli_dataset_and_device_problems_fail_before_a_run_folder_exists(tiny_scenario_path, tmp_path):
    out = tmp_path / "runs"
    for override, words in [
        ("data.n_images=6000", "data.n_images: found 6000"),
        ("data.dataset=fashion-mnist", "data.dataset: fashion-mnist is not in"),
        ("device=cuda", "device: found 'cuda'"),
    ]:
        data_dir = tmp_path / "empty"
        result = run_cli("run", tiny_scenario_path, "--out", out, "--set", override, "--set", f'data.data_dir="{data_dir}"')
        assert result.returncode == 2, (override, result.stderr)
        assert result.stderr.startswith(f"plastilab: {tiny_scenario_path}: ")
        assert words in result.stderr and result.stderr.count("\n") == 1
        assert not out.exists() or not any(out.rglob("status.json"))


def test_cli_out_that_cannot_be_made_is_one_line(tiny_scenario_path, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("run", tiny_scenario_path, "--out", blocker / "runs")
    assert result.returncode == 2
    assert result.stderr.startswith("plastilab: --out ") and "Traceback" not in result.stderr


def test_help_and_validate_do_not_import_torch():
    code = "import sys, plastilab.cli, plastilab.core.scenario_file; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_an_agent_name_that_cannot_name_a_series_is_one_line_for_both_agent_kinds(tmp_path):
    from plastilab.core.errors import ScenarioError
    from plastilab.core.scenario_file import load_scenario

    for kind, name in (("block_mdp", "a/b"), ("atari", "")):
        path = tmp_path / f"{kind}.toml"
        path.write_text(f'kind = "{kind}"\nname = "x"\n[agents."{name}"]\n')
        with pytest.raises(ScenarioError) as error:
            load_scenario(path)
        message = str(error.value)
        assert message.startswith(f"{path}: agents: ") and f"agent name {name!r}: use a non-empty name without '/'" in message
        assert "Value error" not in message and "\n" not in message
