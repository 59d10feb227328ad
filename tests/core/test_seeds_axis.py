"""Seeds are an axis of every scenario kind: the ``seeds`` key, ``--seeds``, and series names."""

import json
import os
import subprocess
import sys

import pytest

from plastilab.core.driver import drive
from plastilab.core.errors import ScenarioError
from plastilab.core.events import RunFinished, Scalars
from plastilab.core.scenario_file import Scenario, load_scenario, validate_scenario

from paths import SCENARIOS, REPO


def test_a_count_means_consecutive_seeds_and_a_list_means_those_seeds():
    adam = {"kind": "adam_instability", "name": "x", "seed": 7}
    assert validate_scenario({**adam, "seeds": 3}, "f").seed_values() == [7, 8, 9]
    assert validate_scenario({**adam, "seeds": [4, 1, 4]}, "f").seed_values() == [4, 1]
    assert validate_scenario(adam, "f").seed_values() == [7]


@pytest.mark.parametrize("value", [0, [], [-1], "3", 2.0, True])
def test_a_bad_seeds_value_is_one_line_naming_the_key(value):
    with pytest.raises(ScenarioError) as error:
        validate_scenario({"kind": "adam_instability", "name": "x", "seeds": value}, "f.toml")
    assert str(error.value).startswith("f.toml: seeds") and "\n" not in str(error.value)


def test_every_kind_names_its_series_by_seed():
    for file, first in [
        ("adam-tiny.toml", "/s0"),
        ("block-mdp-tiny.toml", "/td/s0"),
        ("interventions-quick.toml", "/s0"),
        ("atari-tiny.toml", "/s0"),
    ]:
        config = load_scenario(SCENARIOS / file, seeds=[0, 2]).config
        names = config.series()
        assert names[0].endswith(first) and names[1].endswith(first[:-1] + "2"), (file, names[:2])
        assert len(names) == 2 * len(load_scenario(SCENARIOS / file, seeds=1).config.series())


def test_the_interventions_grid_count_is_the_common_seeds_axis():
    grid = {"kind": "interventions", "name": "x", "seed": 5}
    old = validate_scenario({**grid, "grid": {"n_seeds": 2}}, "f")
    new = validate_scenario({**grid, "seeds": 2}, "f")
    assert old.seed_values() == new.seed_values() == [5, 6]
    assert old.series() == new.series() == ["mlp+none/s5", "mlp+none/s6"]
    # ``seeds`` (from the file or --seeds) replaces the grid's count.
    assert validate_scenario({**grid, "seeds": [1], "grid": {"n_seeds": 2}}, "f").series() == ["mlp+none/s1"]


class SeriesSeen:
    def __init__(self):
        self.series = set()

    def handle(self, event):
        if isinstance(event, Scalars):
            self.series.add(event.series)


def test_block_mdp_runs_every_seed_one_after_another():
    config = load_scenario(SCENARIOS / "block-mdp-tiny.toml", ["training.total_steps=60", "agents.mlp.learning_starts=20"], seeds=2).config
    seen = SeriesSeen()
    end = drive(Scenario(None, config), [seen])
    assert isinstance(end, RunFinished), end
    assert {"mlp/td/s0", "mlp/td/s1"} <= seen.series <= set(config.series())


def test_seeds_on_the_command_line(tmp_path):
    command = [sys.executable, "-m", "plastilab", "validate", str(SCENARIOS / "adam-tiny.toml")]
    assert "ok" in subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300).stdout
    bad = subprocess.run(
        [sys.executable, "-m", "plastilab", "run", str(SCENARIOS / "adam-tiny.toml"), "--seeds", "two", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert bad.returncode == 2 and "--seeds 'two'" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_multi_seed_run_reports_mean_and_interval_per_variant(tmp_path):
    command = [
        sys.executable, "-m", "plastilab", "run", str(SCENARIOS / "adam-tiny.toml"), "--seeds", "3",
        "--set", "training.steps_per_task=20", "--out", str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600, env={**os.environ, "COLUMNS": "160"})
    assert done.returncode == 0, done.stderr
    assert "mean ± 95% t interval over seeds" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "adam-beta2-eps " in line and "±" in line)
    assert "│     3 │" in row  # the number of seeds
    summary = json.loads(next(tmp_path.glob("adam-tiny/*/summary.json")).read_text())
    assert summary["groups"]["sgd"]["seeds"] == [0, 1, 2]
    assert len(summary["groups"]["sgd"]["per_task"]["task/final_loss"]) == 3
    assert {"adam-default/s0", "adam-default/s2"} <= set(summary["series"])


def test_consecutive_seeds_must_stay_32_bit():
    with pytest.raises(ScenarioError, match=r"^f: seeds: found 2; allowed: at most 1 with seed = 4294967295$"):
        validate_scenario({"kind": "adam_instability", "name": "x", "seed": 2**32 - 1, "seeds": 2}, "f")
