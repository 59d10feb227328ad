"""Bad input is one line, exit 2, before any run folder exists (issue 11, findings 4, 6 and 9).

Every case runs the CLI in this process (``plastilab.cli.main``), so none of them pays for a
subprocess; none of them reaches training, so none of them takes more than a moment.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.core.catalog import list_scenarios
from plastilab.core.errors import ScenarioError
from plastilab.runtime.preflight import NO_MEMORY_CHECK_ENV, check_memory
from plastilab.core.scenario_file import load_scenario

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "adam-tiny.toml"
BLOCK_TINY = REPO / "scenarios" / "block-mdp-tiny.toml"
INTERVENTIONS = REPO / "scenarios" / "interventions-quick.toml"


@pytest.fixture(autouse=True)
def _memory_check_on(monkeypatch):
    monkeypatch.delenv(NO_MEMORY_CHECK_ENV, raising=False)


def deep_array_file(path: Path, depth: int = 100_000) -> Path:
    path.write_text('kind = "adam_instability"\nname = "deep"\nx = ' + "[" * depth + "]" * depth + "\n")
    return path


def assert_no_run_folder(out: Path) -> None:
    assert not out.exists() or not any(out.rglob("status.json")), list(out.rglob("*"))


# -- any TOML value of the wrong shape --------------------------------------------------------
def test_a_table_for_kind_in_a_file_is_one_line(capsys, tmp_path):
    path = tmp_path / "kind-table.toml"
    path.write_text('kind = {a = 1}\nname = "x"\n')
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, "kind: found a table")


def test_a_table_for_kind_in_an_override_is_one_line(capsys, tmp_path):
    out = tmp_path / "runs"
    code, _, err = run_cli(capsys, "run", str(TINY), "--set", "kind={a=1}", "--out", str(out))
    assert_one_line_error(code, err, "kind: found a table")
    assert_no_run_folder(out)


@pytest.mark.parametrize(
    "override, key",
    [
        ("kind=[1, 2]", "kind"),
        ("name={a={b=1}}", "name"),
        ("model={x=[1, {y=2}]}", "model.x"),
        ("variants=[1]", "variants"),
        ("variants.sgd=3", "variants.sgd"),
        ("training.lr={}", "training.lr"),
        ("seed=1979-05-27T07:32:00Z", "seed"),
        ("model.hidden=[[1], [2]]", "model.hidden.0"),
    ],
)
def test_values_of_the_wrong_shape_anywhere_are_one_line(override, key):
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert key in str(info.value) and "\n" not in str(info.value)


# -- nesting depth ------------------------------------------------------------------------------
def test_a_100000_deep_array_is_one_line_in_validate(capsys, tmp_path):
    code, _, err = run_cli(capsys, "validate", str(deep_array_file(tmp_path / "deep.toml")))
    assert_one_line_error(code, err, "nested")


def test_a_100000_deep_override_is_one_line():
    with pytest.raises(ScenarioError, match="nested"):
        load_scenario(TINY, ["model.x=" + "[" * 100_000 + "]" * 100_000])


def test_moderate_nesting_beyond_the_limit_names_the_key(tmp_path):
    path = tmp_path / "deepish.toml"
    path.write_text('kind = "adam_instability"\nname = "d"\n[model]\nx = ' + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(ScenarioError, match=r"model\.x: nested more than"):
        load_scenario(path)


def test_list_skips_a_deep_file_and_a_fifo_in_a_scenarios_folder(capsys, tmp_path):
    deep_array_file(tmp_path / "deep.toml")
    (tmp_path / "kind-table.toml").write_text('kind = {a = 1}\nname = "t"\n')
    os.mkfifo(tmp_path / "pipe.toml")  # reading it would block forever
    (tmp_path / "fine.toml").write_text(TINY.read_text().replace('name = "adam-tiny"', 'name = "fine"'))
    code, out, err = run_cli(capsys, "list", "--scenarios", str(tmp_path))
    assert code == 0 and "Traceback" not in err
    assert "fine.toml" in out and "deep.toml" not in out and "pipe.toml" not in out


def test_the_lab_catalogue_survives_hostile_files(tmp_path):
    from plastilab.studies.scenario_form import discover

    deep_array_file(tmp_path / "deep.toml")
    (tmp_path / "kind-table.toml").write_text('kind = {a = 1}\nname = "t"\n')
    os.mkfifo(tmp_path / "pipe.toml")
    entries = {e.path.name: e for e in discover([tmp_path])}
    assert not entries["deep.toml"].ok and "nested" in entries["deep.toml"].error
    assert not entries["kind-table.toml"].ok and "kind" in entries["kind-table.toml"].error
    assert not entries["pipe.toml"].ok and "not a regular file" in entries["pipe.toml"].error


# -- BOM, multi-line overrides, --out '', a folder as the file -----------------------------------
def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.read_bytes())
    assert load_scenario(path).name == "adam-tiny"


def test_a_multi_line_override_is_refused(capsys, tmp_path):
    out = tmp_path / "runs"
    code, _, err = run_cli(capsys, "run", str(TINY), "--set", "training.lr=3\n[x]\ny=1", "--out", str(out))
    assert_one_line_error(code, err, "one line only")
    assert_no_run_folder(out)


@pytest.mark.parametrize("override", ["training..lr=1", ".lr=1", "training.=1", "=3", "nothing"])
def test_malformed_override_keys_are_one_line(override):
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert "--set" in str(info.value)


def test_an_empty_out_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "run", str(TINY), "--out", "")
    assert_one_line_error(code, err, "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_out_is_refused(capsys, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    code, _, err = run_cli(capsys, "run", str(TINY), "--out", str(target))
    assert_one_line_error(code, err, "not a folder")


def test_a_folder_given_as_the_scenario_says_so(capsys, tmp_path):
    code, _, err = run_cli(capsys, "validate", str(tmp_path))
    assert_one_line_error(code, err, "a folder, not a scenario file")


def test_a_fifo_given_as_the_scenario_is_refused_without_blocking(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "pipe.toml"))
    assert_one_line_error(code, err, "not a regular file")


def test_a_huge_file_is_refused_before_reading(capsys, tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.truncate(2 << 20)
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, "at most")


def test_binary_garbage_is_one_line(capsys, tmp_path):
    path = tmp_path / "garbage.toml"
    path.write_bytes(bytes(range(256)))
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, "UTF-8")


def test_control_characters_in_a_name_never_reach_the_terminal(capsys, tmp_path):
    path = tmp_path / "esc.toml"
    path.write_text(TINY.read_text().replace('name = "adam-tiny"', 'name = "\\u001b[2Jgone\\nsecond line"'))
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, "name")
    assert "\\x1b" in err or "\\u001b" in err


def test_usage_errors_are_one_line(capsys):
    code, _, err = run_cli(capsys, "run", str(TINY), "--no-such-option")
    assert_one_line_error(code, err, "--no-such-option")
    code, _, err = run_cli(capsys, "run", str(TINY), "--seed", "abc")
    assert_one_line_error(code, err, "--seed")


# -- sizes that cannot fit ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, override, key",
    [
        (TINY, "model.hidden=[100000000, 100000000]", "model.hidden"),
        (TINY, "training.batch_size=1000000000", "training.batch_size"),
        (TINY, "training.n_classes=1000000000", "training.n_classes"),
        (TINY, "data.n_images=1000000000", "data.n_images"),
        (BLOCK_TINY, "agents.mlp.buffer_size=1000000000", "agents.mlp.buffer_size"),
        (BLOCK_TINY, "env.n_actions=1000000000", "env.n_actions"),
        (INTERVENTIONS, "models.mlp.hidden=[100000000]", "models.mlp.hidden"),
        (INTERVENTIONS, "training.batch_size=1000000000", "training.batch_size"),
    ],
)
def test_sizes_that_cannot_fit_are_refused_before_a_run_folder(capsys, tmp_path, path, override, key):
    out = tmp_path / "runs"
    code, _, err = run_cli(capsys, "run", str(path), "--set", override, "--device", "cpu", "--out", str(out))
    assert_one_line_error(code, err, key, "needs about", "available RAM", "--no-memory-check")
    assert_no_run_folder(out)


def test_validate_refuses_what_cannot_fit_too(capsys, tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(TINY.read_text().replace("hidden = [32, 32]", "hidden = [100000000, 100000000]"))
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, "model.hidden", "needs about")
    code, out, _ = run_cli(capsys, "validate", "--no-memory-check", str(path))
    assert code == 0 and "ok" in out


def test_the_memory_check_compares_with_the_limit_it_is_given():
    scenario = load_scenario(TINY)
    check_memory(scenario, "cpu", limit=1 << 40)  # fits in a terabyte
    with pytest.raises(ScenarioError, match=r"memory is 1 KB"):
        check_memory(scenario, "cpu", limit=1000)


def test_no_memory_check_lets_the_next_check_speak(capsys, tmp_path, monkeypatch):
    """With --no-memory-check the size is not refused; the dataset check (a missing CIFAR-10
    here) is the next to speak, still before a run folder exists."""
    out = tmp_path / "runs"
    code, _, err = run_cli(
        capsys, "run", str(TINY), "--no-memory-check", "--device", "cpu", "--out", str(out),
        "--set", "training.batch_size=1000000000",
        "--set", "data.dataset=cifar10", "--set", f"data.data_dir={tmp_path / 'no-data'}",
    )
    monkeypatch.delenv(NO_MEMORY_CHECK_ENV, raising=False)
    assert_one_line_error(code, err)
    assert "needs about" not in err and "cifar" in err.lower()
    assert_no_run_folder(out)


def test_builtin_scenarios_fit_a_modest_machine():
    """The estimate is an order of magnitude, not a scare: every shipped file (every trial of a
    shipped study) fits in 8 GB."""
    from plastilab.studies.study_file import check_study, is_study_file, load_study_plan

    for path in sorted((REPO / "scenarios").glob("*.toml")):
        scenarios = check_study(load_study_plan(path)) if is_study_file(path) else [load_scenario(path)]
        for scenario in scenarios:
            check_memory(scenario, "cpu", limit=8 << 30)


def test_list_still_lists_builtin_scenarios():
    assert any(e.path.name == "adam-tiny.toml" for e in list_scenarios())
