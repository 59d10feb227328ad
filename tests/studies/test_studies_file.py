"""Study files: expansion into trials, resolution, and one-line errors that name the trial."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plastilab.core.errors import ScenarioError
from plastilab.studies.study_file import check_study, is_study_file, load_study_plan

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "block-mdp-tiny.toml"


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_product_of_axes_times_seeds_with_base_relative_to_the_study_file(tmp_path):
    (tmp_path / "base.toml").write_text(TINY.read_text())
    path = write(tmp_path, '''
kind = "study"
name = "grid"
base = "base.toml"
seeds = 2
[axes]
"env.rewards" = [["class_aligned"], ["sparse"]]
"agents.mlp.optimizer" = ["adam", "rmsprop"]
''')
    study = load_study_plan(path)
    assert is_study_file(path)
    assert len(study.trials) == 8
    assert [t.id for t in study.trials][:3] == ["t000", "t001", "t002"]
    first, last = study.trials[0], study.trials[-1]
    assert first.overrides == {"env.rewards": ["class_aligned"], "agents.mlp.optimizer": "adam", "seed": 0}
    assert last.overrides == {"env.rewards": ["sparse"], "agents.mlp.optimizer": "rmsprop", "seed": 1}
    scenarios = check_study(study)
    assert scenarios[-1].config.env.rewards == ["sparse"]
    assert scenarios[-1].config.agents["mlp"].optimizer == "rmsprop"
    assert scenarios[-1].config.seed == 1
    assert scenarios[-1].config.name == "grid.t007"


def test_explicit_trials_and_inline_base_and_seed_list(tmp_path):
    path = write(tmp_path, '''
kind = "study"
name = "explicit"
seeds = [3, 7]
trials = [{ "training.total_steps" = 100 }, { "training.total_steps" = 200, "agents.mlp.learning_rate" = 1e-4 }]
[base]
kind = "block_mdp"
name = "inline"
[base.training]
total_steps = 50
''')
    study = load_study_plan(path)
    assert [t.overrides["seed"] for t in study.trials] == [3, 7, 3, 7]
    scenarios = check_study(study)
    assert [s.config.training.total_steps for s in scenarios] == [100, 100, 200, 200]
    assert scenarios[2].config.agents["mlp"].learning_rate == 1e-4


def test_a_bad_trial_value_is_one_line_naming_the_file_the_trial_and_the_key(tmp_path):
    path = write(tmp_path, f'''
kind = "study"
name = "bad"
base = "{TINY}"
[axes]
"agents.mlp.learning_rate" = [1e-3, -1.0]
''')
    with pytest.raises(ScenarioError) as caught:
        check_study(load_study_plan(path))
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "trial t001" in message and "agents.mlp.learning_rate" in message
    assert "-1" in message


@pytest.mark.parametrize(
    "body, expected",
    [
        ('base = "missing.toml"', "base: no such scenario file"),
        ('base = "{tiny}"\nseeds = 0', "seeds"),
        ('base = "{tiny}"\nworkers = 2\nbogus = 1', "bogus: unknown key"),
        ('base = "{tiny}"\ntrials = [{{ "seed" = 1 }}]\n[axes]\n"seed" = [1]', "seed"),
        ('base = "{tiny}"\n[axes]\n"training.total_steps" = []', "no values"),
    ],
)
def test_study_schema_errors_are_one_line(tmp_path, body, expected):
    path = write(tmp_path, 'kind = "study"\nname = "s"\n' + body.format(tiny=TINY))
    with pytest.raises(ScenarioError) as caught:
        load_study_plan(path)
    assert "\n" not in str(caught.value) and expected in str(caught.value)


def test_set_changes_the_base_and_study_prefix_changes_the_study(tmp_path):
    path = write(tmp_path, f'kind = "study"\nname = "s"\nbase = "{TINY}"\n[axes]\n"agents.mlp.optimizer" = ["adam", "rmsprop"]\n')
    study = load_study_plan(path, ["training.total_steps=60", "study.seeds=3"])
    assert len(study.trials) == 6
    assert all(s.config.training.total_steps == 60 for s in check_study(study))


def test_validate_checks_every_trial_and_exits_2(tmp_path):
    good = write(tmp_path, f'kind = "study"\nname = "s"\nbase = "{TINY}"\nseeds = 2\n', "good.toml")
    bad = write(tmp_path, f'kind = "study"\nname = "s"\nbase = "{TINY}"\n[axes]\n"env.rewards" = [["class_aligned"], ["nope"]]\n', "bad.toml")
    ok = subprocess.run([sys.executable, "-m", "plastilab", "validate", str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "ok (study, 2 trials" in ok.stdout
    res = subprocess.run([sys.executable, "-m", "plastilab", "validate", str(bad)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "trial t001" in res.stderr and "env.rewards" in res.stderr and "Traceback" not in res.stderr


def test_shipped_study_files_validate():
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        if is_study_file(path):
            study = load_study_plan(path)
            assert len(check_study(study)) == len(study.trials) >= 1, path
