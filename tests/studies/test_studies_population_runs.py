"""Populations run: a packed trial's folder is the folder of that trial run alone, one agent's NaN
fails its own trial only, ``--resume`` reruns a population's unfinished trials, Ray asks for
the GPUs a CUDA population needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plastilab.studies.population_job import population_job, run_population
from plastilab.studies.study_file import load_study_plan, trial_source
from plastilab.studies.trial import run_trial
from studies_helpers import latest_states, ledger_lines, plastilab, set_args, study_dirs, tiny_study

# Everything the tiny scenario measures, every instrument at the end, and a NaN at step 60 for
# the trials with the absurd learning rate (RMSProp at 1e30 overflows within ten updates).
EVERYTHING = [
    "training.total_steps=150",
    "training.brownian=true",
    "agents.mlp.optimizer=rmsprop",
    "instruments.probe.every=75",
    "instruments.stats.every=75",
    "instruments.hessian.every=150",
    "instruments.covariance.every=150",
]
NAN_AXES = '"env.rewards" = [["class_aligned"], ["sparse"]]\n"agents.mlp.learning_rate" = [1e-3, 1e30]'
TIMES = {"wall_time", "wall_seconds", "started", "updated", "pid", "pid_start"}  # differ run to run


def folder_contents(run_dir: Path) -> dict[str, object]:
    """A run folder's every file, as data, without what differs between two runs of one scenario."""
    contents: dict[str, object] = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = str(path.relative_to(run_dir))
        if path.suffix == ".jsonl":
            lines = [{k: v for k, v in json.loads(line).items() if k not in TIMES} for line in path.read_text().splitlines()]
            # A process times its Hessian-vector product methods once and says which it chose in
            # the first run's log: the runs here share one process, as a population's trials do.
            contents[rel] = [r for r in lines if "Hessian-vector products of" not in r.get("message", "")]
        elif path.suffix == ".json":
            contents[rel] = {k: v for k, v in json.loads(path.read_text()).items() if k not in TIMES}
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                contents[rel] = {name: arrays[name].tolist() for name in arrays.files}
        else:
            contents[rel] = path.read_text()
    return contents


def trial_jobs(study, study_dir: Path) -> list[dict]:
    return [
        {
            "trial": trial.id, "scenario": trial.scenario, "source": trial_source(study, trial), "study_dir": str(study_dir),
            "target": study.config.analysis.target, "command": ["plastilab", "run", "test"], "resume_dir": None,
        }
        for trial in study.trials
    ]


@pytest.mark.timeout(600)
def test_a_packed_trial_writes_the_folder_it_writes_alone_and_a_nan_fails_only_its_own_trial(tmp_path):
    path, settings = tiny_study(tmp_path, name="packed", seeds=2, axes=NAN_AXES)
    study = load_study_plan(path, [*settings, *EVERYTHING])
    packed_dir, alone_dir = tmp_path / "packed", tmp_path / "alone"
    jobs = trial_jobs(study, packed_dir)
    answer = run_population(population_job("t000+7", jobs))  # 2 rewards x 2 rates x 2 seeds, one run
    results = answer["trials"]
    bad = {t.id for t in study.trials if t.overrides["agents.mlp.learning_rate"] > 1}
    assert {tid: r["state"] for tid, r in results.items()} == {t.id: "failed" if t.id in bad else "finished" for t in study.trials}
    # Alone, as a study trial runs without populations: t000 the first, t005 the second reward
    # and seed (class_aligned/a0/td/s0 and sparse/a0/td/s1 in the run, mlp/td alone), t003 a NaN.
    for trial_id in ("t000", "t005", "t003"):
        (job,) = [j for j in trial_jobs(study, alone_dir) if j["trial"] == trial_id]
        alone = run_trial(job)
        assert alone["state"] == results[trial_id]["state"]
        packed_folder = folder_contents(packed_dir / results[trial_id]["run_dir"])
        assert packed_folder == folder_contents(alone_dir / alone["run_dir"]), trial_id
        assert len(packed_folder["metrics.jsonl"]) >= (20 if trial_id in bad else 200)
        assert any(name.startswith("arrays/mlp_brownian/") for name in packed_folder)
    error = results["t003"]["error"]  # in the trial's own words: its file, series and key
    assert error.startswith("packed.t003: agents.mlp.learning_rate:") and "'mlp/td'" in error and "step 60" in error
    status = json.loads((packed_dir / results["t003"]["run_dir"] / "status.json").read_text())
    assert status["state"] == "failed" and status["error"] == error


@pytest.mark.timeout(900)
def test_a_study_records_each_packed_trial_and_resume_reruns_only_the_unfinished_ones(tmp_path):
    path, settings = tiny_study(tmp_path, name="packs", axes=NAN_AXES)
    out = tmp_path / "runs"
    first = plastilab("run", str(path), "--out", str(out), "--workers", "1", "-q", *set_args([*settings, *EVERYTHING]))
    assert first.returncode == 1, first.stderr[-3000:]  # two trials failed
    (study_dir,) = study_dirs(out, "packs")
    assert latest_states(study_dir) == {"t000": "finished", "t001": "failed", "t002": "finished", "t003": "failed"}
    ends = {e["trial"]: e for e in ledger_lines(study_dir) if e["state"] != "pending"}
    assert {e["population"] for e in ends.values()} == {"t000+3"}  # one run of four trials
    assert len({e["run_dir"] for e in ends.values()}) == 4  # each its own folder
    assert "'mlp/td'" in ends["t001"]["error"] and "packs.t001" in ends["t001"]["error"]

    # The scheduler of that run was killed while t002 ran: its ledger row and folder say running.
    t002 = ends["t002"]
    with open(study_dir / "trials.jsonl", "a") as ledger:
        ledger.write(json.dumps({**t002, "state": "running", "run_dir": None, "ended": None}) + "\n")
    status_path = study_dir / t002["run_dir"] / "status.json"
    status_path.write_text(json.dumps({**json.loads(status_path.read_text()), "state": "running"}))

    again = plastilab("run", "--resume", str(study_dir), "--workers", "1", "-q")
    assert again.returncode == 1, again.stderr[-3000:]  # the NaN trials fail again, as they should
    assert latest_states(study_dir) == {"t000": "finished", "t001": "failed", "t002": "finished", "t003": "failed"}
    after = {e["trial"]: e for e in ledger_lines(study_dir)}
    assert after["t000"]["run_dir"] == ends["t000"]["run_dir"]  # finished: kept, not rerun
    assert after["t002"]["run_dir"] != t002["run_dir"]  # rerun in a new folder
    # The unfinished three are no one product: the two NaN rates (both rewards) share a run.
    assert after["t001"]["population"] == after["t003"]["population"] == "t001+1" and after["t002"]["population"] is None
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["counts"] == {"finished": 2, "failed": 2}


def test_population_flags_are_one_line_errors_before_any_folder(tmp_path):
    path, settings = tiny_study(tmp_path, name="flags")
    out = tmp_path / "runs"
    for args, words in [
        (["--gpus-per-trial", "0.5"], "--gpus-per-trial: only for --executor ray"),
        (["--population-size", "0"], "--population-size: found 0"),
    ]:
        result = plastilab("run", str(path), "--out", str(out), *args, timeout=300)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr
    scenario = plastilab("run", str(Path(settings and path).parent / "nothing.toml"), "--population-size", "2", timeout=300)
    assert scenario.returncode == 2 and "--population-size: only for a study" in scenario.stderr
    assert not out.exists()


@pytest.mark.timeout(600)  # a local Ray starts in ~10 s idle, much longer on a loaded machine
def test_ray_asks_for_gpus_per_trial_times_the_population_on_cuda(tmp_path):
    ray = pytest.importorskip("ray")
    from plastilab.core.errors import ScenarioError
    from plastilab.studies.executors import RayExecutor
    from plastilab.studies.populations import check_gpus, ray_gpus
    from plastilab.core.scenario_file import Scenario, validate_scenario

    path, settings = tiny_study(tmp_path, name="cards", axes='"agents.mlp.optimizer" = ["adam", "rmsprop"]')
    study = load_study_plan(path, [*settings, "device=cuda"])
    jobs = trial_jobs(study, tmp_path / "cards")
    scenarios = [Scenario(None, validate_scenario(dict(j["scenario"]), j["source"])) for j in jobs]
    # A Ray that believes it has one card (none is needed: the request is what is checked).
    ray.init(num_cpus=1, num_gpus=1, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        executor = RayExecutor(workers=1)
        gpus = ray_gpus(executor, scenarios, 0.25)
        assert gpus == 0.5
        executor.submit(population_job("t000+1", jobs, gpus))
        answers = []
        while not answers:
            answers = executor.wait(5.0)
        ((key, answer),) = answers
        assert key == "t000+1" and answer["resources"] == {"CPU": 1.0, "GPU": 0.5}
        # No CUDA here: both trials fail at preflight, each with its one line.
        assert {r["state"] for r in answer["trials"].values()} == {"failed"}
        assert all("cuda" in r["error"].lower() for r in answer["trials"].values())
        with pytest.raises(ScenarioError, match="--gpus-per-trial: a task asks for 2 GPUs"):
            check_gpus(executor, [population_job("t000+1", jobs, 2.0)])
        assert ray_gpus(executor, scenarios, None) == 1.0  # not given: the population shares one card
        # On the CPU the same population asks for no card, trains, and each trial has its folder
        # (device auto asks for one when --gpus-per-trial is given: a task that asks for none sees none).
        on_cpu = trial_jobs(load_study_plan(path, [*settings, "device=cpu"]), tmp_path / "cpu")
        assert ray_gpus(executor, [Scenario(None, validate_scenario(dict(j["scenario"]), j["source"])) for j in on_cpu], 0.25) is None
        auto = [Scenario(None, validate_scenario(dict(j["scenario"]), j["source"])) for j in trial_jobs(load_study_plan(path, settings), tmp_path)]
        assert ray_gpus(executor, auto, 0.25) == 0.5 and ray_gpus(executor, auto, None) is None
        executor.submit(population_job("t000+1", on_cpu))
        answers = []
        while not answers:
            answers = executor.wait(5.0)
        ((_, answer),) = answers
        assert answer["resources"] == {"CPU": 1.0} and {r["state"] for r in answer["trials"].values()} == {"finished"}
        for result in answer["trials"].values():
            assert json.loads((tmp_path / "cpu" / result["run_dir"] / "status.json").read_text())["state"] == "finished"
    finally:
        ray.shutdown()
