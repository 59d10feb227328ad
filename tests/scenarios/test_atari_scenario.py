"""The Atari scenario on a real ALE game: its files validate, a few hundred agent steps with every
instrument on leave every measurement in the run folder, and a missing extra is one line."""

from __future__ import annotations

import math

import pytest

from plastilab.core.errors import PlastilabError, ScenarioError
from plastilab.core.events import RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.runtime.launcher import launch
from plastilab.scenarios.atari.scores import HUMAN_SCORES, RANDOM_SCORES, human_normalized

from paths import SCENARIOS

TINY = SCENARIOS / "atari-tiny.toml"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("atari-*.toml")), ids=lambda p: p.name)
def test_scenario_files_validate(path):
    from plastilab.studies.study_file import load_study_plan

    if "100k" in path.name:  # a study: its base and every trial validate on load
        study = load_study_plan(path)
        games = {t.overrides["env.game"] for t in study.trials}
        assert len(games) >= 3 and {t.overrides["agents.dqn.layer_norm"] for t in study.trials} == {False, True}
        assert len({t.overrides["seed"] for t in study.trials}) >= 3
        return
    config = load_scenario(path).config
    assert config.kind == "atari" and config.name == path.stem and config.description


def test_the_protocol_is_the_default():
    config = load_scenario(TINY).config
    assert (config.env.sticky_actions, config.env.max_frames, config.env.terminal_on_life_loss) == (0.25, 108_000, False)
    agent = config.agents["dqn"]
    assert agent.torso == "nature_cnn" and agent.double_dqn and agent.loss == "huber"


@pytest.mark.parametrize(
    "override, key",
    [
        ('env.game="NotAGame"', "env.game"),
        ("agents.dqn.channels=[8, 16]", "agents.dqn"),
        ("env.sticky_actions=1.5", "env.sticky_actions"),
        ("env.games=['Pong', 'NotAGame']", "env.games"),
        ("env.games=['Pong', 'Breakout']", "env.switch_every"),  # a cycle needs its turns' length
        ("env.switch_every=100", "env.switch_every"),  # turns without games to cycle
        ("env.games=['Pong']\nenv.switch_every=100", "env.games"),
        ("env.games=['Pong', 'Breakout']\nenv.switch_every=301", "env.switch_every"),  # after the run
    ],
)
def test_bad_values_are_one_line_naming_the_key(override, key):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(TINY, override.split("\n"))
    message = str(caught.value)
    assert "\n" not in message and key in message


def test_human_normalised_scores_use_the_published_table():
    assert human_normalized("Pong", RANDOM_SCORES["Pong"]) == 0.0
    assert math.isclose(human_normalized("Pong", HUMAN_SCORES["Pong"]), 1.0)
    assert math.isclose(human_normalized("Breakout", 30.5), 1.0) and RANDOM_SCORES["Breakout"] == 1.7


def test_a_missing_extra_is_one_line_before_any_run_folder(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ale(name, *args, **kwargs):
        if name == "ale_py":
            raise ImportError("No module named 'ale_py'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ale)
    with pytest.raises(PlastilabError) as caught:
        launch(load_scenario(TINY, ["device=cpu"]), tmp_path / "runs")
    message = str(caught.value)
    assert "\n" not in message and "plastilab[atari]" in message and "ale-py" in message
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("status.json"))


def test_a_short_run_on_pong_logs_training_evaluation_and_every_instrument(tmp_path):
    launched = launch(load_scenario(TINY, ["device=cpu"]), tmp_path)
    assert isinstance(launched.end, RunFinished), launched.end
    by: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for r in read_jsonl(launched.run_dir / layout.METRICS):
        if "value" in r:
            by.setdefault((r["series"], r["tag"]), []).append((r["step"], r["value"]))
    steps = lambda tag: [s for s, _ in by[("dqn", tag)]]  # noqa: E731
    assert steps("probe/final_loss") == [0, 150, 300]
    assert steps("units/dead_fraction") == [100, 200, 300]
    assert steps("hessian/top_eigenvalue") == [300] and steps("gradients/mean_similarity") == [300]
    assert steps("eval/return") == [0, 300] and steps("eval/human_normalized") == [0, 300]
    # Pong pays -1 or +1 a point; 100 evaluation steps score a few points at most
    assert all(-21 <= v <= 21 for _, v in by[("dqn", "eval/return")])
    assert all(math.isfinite(v) and v >= 0 for _, v in by[("dqn", "td/loss")])
    assert steps("td/loss")[0] >= 50  # no gradient step before learning_starts
    assert by[("dqn", "env/frames")][-1] == (300, 1200.0)  # 4 emulator frames per agent step


CYCLING = ["device=cpu", "env.games=['Pong', 'Breakout']", "env.switch_every=100", "env.max_frames=240"]


def test_a_short_cycle_through_two_games_switches_on_schedule_and_logs_returns_per_game(tmp_path):
    """Continual RL (Abbas et al. 2023): Pong 100 steps, Breakout 100, Pong again; one network
    with the 18 actions for both; a switch cuts the episode and is a task boundary."""
    launched = launch(load_scenario(TINY, CYCLING), tmp_path)
    assert isinstance(launched.end, RunFinished), launched.end
    by: dict[str, list[tuple[int, float]]] = {}
    for r in read_jsonl(launched.run_dir / layout.METRICS):
        if "value" in r:
            by.setdefault(r["tag"], []).append((r["step"], r["value"]))
    assert by["task/index"] == [(0, 0.0), (100, 1.0), (200, 2.0)]
    games = dict(by["env/game"])
    assert (games[25], games[100], games[125], games[200], games[225]) == (0.0, 0.0, 1.0, 1.0, 0.0)
    # 60-step episodes: Pong's end at 60 and (its turn resumed by a fresh episode) 260; Breakout's at 160
    assert [s for s, _ in by["game/Pong/return"]] == [75, 275] and [s for s, _ in by["game/Breakout/return"]] == [175]
    assert all(-21 <= v <= 21 for _, v in by["game/Pong/return"]) and all(0 <= v for _, v in by["game/Breakout/return"])
    # evaluation plays the game just trained on: Pong at 0 and 300 (its second turn)
    assert [s for s, _ in by["game/Pong/eval_return"]] == [0, 300] and "game/Breakout/eval_return" not in by
    config = load_scenario(TINY, CYCLING).config
    from plastilab.envs.atari_cycle import AtariCycle

    cycle = AtariCycle(config.env.games, switch_every=100, clip_rewards=True)
    assert cycle.n_actions == 18 and [cycle.game_at(s) for s in (0, 99, 100, 199, 200)] == [0, 0, 1, 1, 0]
    cycle.close()


@pytest.mark.timeout(600)
def test_a_cycle_resumed_in_its_second_game_equals_uninterrupted(tmp_path):
    from resume_helpers import assert_same_run
    from resume_helpers import run_twice

    overrides = [*CYCLING, "checkpoint_every=150", "instruments.hessian.every=0"]
    whole, resumed, saved = run_twice(tmp_path, "atari-tiny.toml", overrides, stop_step=190)
    assert saved["step"] == 150
    env = saved["runner"]["agents"][0]["env"]
    assert env["index"] == 1 and env["steps_taken"] == 150 and all(g is not None for g in env["games"])
    assert_same_run(resumed, whole)


def test_the_memory_estimate_counts_the_replay_buffer():
    from plastilab.core.memory_estimate import estimate, total

    small = load_scenario(TINY).config
    big = load_scenario(TINY, ["agents.dqn.buffer_size=100000"]).config
    assert estimate(big)[0].key == "agents.dqn.buffer_size"
    # two stacked uint8 observations of 4 x 84 x 84 a transition: 5.6 GB for 100,000
    assert 5.5e9 < total(estimate(big)) < 6.5e9 and total(estimate(small)) < 1e8
