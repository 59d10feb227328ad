"""`plastilab run --resume`: a killed run resumes exactly; a folder that cannot be resumed gets
one line and is left alone; a checkpoint holding anything but plain data is refused unread."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import torch
from typer.testing import CliRunner

from plastilab.cli import app
from plastilab.core.control import RunControl
from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout, state
from plastilab.runtime import launcher
from plastilab.runtime.checkpoint_save import CHECKPOINT, CheckpointError
from plastilab.runtime.resume import load_checkpoint, open_resume, resume_claim
from plastilab.runtime.resume_checks import RESUME_LOCK
from resume_helpers import StopAfter, lines, without_times

from paths import SCENARIOS

TINY = SCENARIOS / "adam-tiny.toml"
SMALL = ["checkpoint_every=40", "data.n_images=64", "model.hidden=[16, 16]", "training.n_tasks=2", "training.steps_per_task=60"]
START_TIMEOUT_S = 300  # the child imports torch first: a minute or more on a busy machine


def stopped_run(tmp_path, step: int = 50, overrides=SMALL):
    control = RunControl()
    scenario = load_scenario(TINY, list(overrides))
    return launcher.launch(scenario, tmp_path, consumers=[StopAfter(control, step)], control=control).run_dir


def one_line(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    out = result.output.strip().splitlines()
    assert len(out) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in out[0], out[0]
    return out[0]


@pytest.mark.timeout(900)
def test_a_killed_run_resumes_to_the_numbers_of_an_unkilled_one(tmp_path):
    long = ["device=cpu", "checkpoint_every=100", "training.n_tasks=1", "training.steps_per_task=100000"]
    command = [sys.executable, "-m", "plastilab", "run", str(TINY), "--out", str(tmp_path / "killed"), "--quiet", *(a for o in long for a in ("--set", o))]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # until a checkpoint is saved and lines it does not vouch for follow it
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            found = list((tmp_path / "killed").glob(f"*/*/{CHECKPOINT}"))
            if found and (found[0].parent / layout.METRICS).stat().st_size > load_checkpoint(found[0].parent)["files"][layout.METRICS]:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # no chance to write its end: the run is abandoned
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run_dir = found[0].parent
    assert state.read_state(run_dir) == "abandoned"
    saved = load_checkpoint(run_dir)["step"]
    (run_dir / (CHECKPOINT + ".tmp")).write_bytes(b"half a checkpoint: killed while writing")  # the previous one stands
    # Resumed and stopped 250 steps on, it holds what a run never killed holds at that event.
    control = RunControl()
    resumed = launcher.resume(run_dir, consumers=[StopAfter(control, saved + 250)], control=control)
    assert resumed.state == "interrupted" and state.read_state(run_dir) == "interrupted"
    control = RunControl()
    scenario = load_scenario(TINY, long)
    whole = launcher.launch(scenario, tmp_path / "whole", consumers=[StopAfter(control, saved + 250)], control=control).run_dir
    for name in (layout.METRICS, layout.LOG):
        assert without_times(lines(run_dir / name)) == without_times(lines(whole / name)), name
    assert not (run_dir / (CHECKPOINT + ".tmp")).exists()


@pytest.mark.timeout(600)
def test_the_cli_resumes_a_run_folder_and_refuses_what_it_cannot_resume(tmp_path):
    runner = CliRunner()
    run_dir = stopped_run(tmp_path / "runs")
    result = runner.invoke(app, ["run", "--resume", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    assert state.read_state(run_dir) == "finished"
    assert json.loads((run_dir / layout.META).read_text())["resumes"][0]["step"] == 40
    one_line(runner.invoke(app, ["run", "--resume", str(run_dir)]), "already finished")
    one_line(runner.invoke(app, ["run", "--resume", str(tmp_path / "runs")]), "not a run folder", "run folder or a study folder")
    one_line(runner.invoke(app, ["run", "--resume", str(run_dir), "--set", "training.lr=1"]), "keeps the scenario it started with")
    # Stopped before it ever checkpointed.
    no_checkpoint = stopped_run(tmp_path / "early", step=20)
    one_line(runner.invoke(app, ["run", "--resume", str(no_checkpoint)]), "stopped at step 20, before its first checkpoint (checkpoint_every = 40)")
    assert state.read_state(no_checkpoint) == "interrupted"  # left as it was


def test_a_running_run_is_not_resumed(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    state.write_running(run_dir, 10)  # this test's process: alive
    (run_dir / CHECKPOINT).write_bytes(b"")
    with pytest.raises(CheckpointError, match=f"still running \\(pid {os.getpid()}\\); stop it before resuming it"):
        open_resume(run_dir)


@pytest.mark.timeout(600)
def test_two_processes_cannot_both_resume_one_folder(tmp_path):
    run_dir = stopped_run(tmp_path)
    status_before = (run_dir / layout.STATUS).read_text()
    metrics_before = (run_dir / layout.METRICS).read_text()
    # A live process (this one) holds the claim: another resume is refused in one line and
    # changes nothing, neither status.json nor the lines after the checkpoint.
    lock = run_dir / RESUME_LOCK
    lock.write_text(json.dumps(state.this_process()))
    with pytest.raises(CheckpointError, match=f"another process \\(pid {os.getpid()}\\) is resuming it right now"):
        launcher.resume(run_dir)
    assert (run_dir / layout.STATUS).read_text() == status_before and (run_dir / layout.METRICS).read_text() == metrics_before
    # Between its check and its claim, another process took the folder: the check under the
    # claim sees it running and refuses.
    state.write_running(run_dir, 40)
    lock.unlink()
    with pytest.raises(CheckpointError, match="still running"), resume_claim(run_dir):
        pass
    assert not lock.exists()
    # A claim left by a process that died is taken over.
    (run_dir / layout.STATUS).write_text(status_before)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    lock.write_text(json.dumps({"pid": int(dead.stdout)}))
    assert launcher.resume(run_dir).state == "finished" and not lock.exists()


class Planted:
    """A pickled object whose loading would run code (it would touch a file)."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_a_checkpoint_holding_an_arbitrary_object_is_refused_unread(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    state.write_end(run_dir, "interrupted", 10)
    marker = tmp_path / "code-ran"
    torch.save({"format": 1, "step": 10, "runner": {"x": Planted(marker)}}, run_dir / CHECKPOINT)
    with pytest.raises(CheckpointError) as refused:
        open_resume(run_dir)
    message = str(refused.value)
    assert message.startswith(f"{run_dir / CHECKPOINT}: refused: not a plain checkpoint") and "\n" not in message
    assert not marker.exists()  # nothing in the file ran
    result = CliRunner().invoke(app, ["run", "--resume", str(run_dir)])
    one_line(result, "refused: not a plain checkpoint")
    assert not marker.exists()
    # Plain data that is not a checkpoint of this plastilab: refused too.
    torch.save({"format": 99}, run_dir / CHECKPOINT)
    with pytest.raises(CheckpointError, match="not a checkpoint this plastilab wrote"):
        open_resume(run_dir)


@pytest.mark.parametrize(
    ("file", "value", "message"),
    [
        ("adam-tiny.toml", -1, "checkpoint_every: found -1; allowed: a number >= 0"),
        ("block-mdp-tiny.toml", "'often'", "checkpoint_every: found 'often'"),
    ],
)
def test_checkpoint_every_is_checked_by_the_schema(file, value, message):
    with pytest.raises(ScenarioError) as error:
        load_scenario(SCENARIOS / file, [f"checkpoint_every={value}"])
    assert str(error.value) == f"{SCENARIOS / file}: {message}" or message in str(error.value)
    assert "\n" not in str(error.value)


def test_random_streams_round_trip_through_a_plain_checkpoint(tmp_path):
    import random

    import numpy as np

    from plastilab.core.random_state import global_rng_state, numpy_generator_state, set_global_rng_state, set_numpy_generator_state

    def draws(generator):
        return (random.random(), float(np.random.rand()), float(torch.rand(1)), float(generator.random()))

    generator = np.random.default_rng([3, 0xE])
    draws(generator)  # streams somewhere in the middle, not at their seeds
    torch.save({"rng": global_rng_state(), "generator": numpy_generator_state(generator)}, tmp_path / "rng.pt")
    expected = draws(generator)
    draws(generator)
    saved = torch.load(tmp_path / "rng.pt", weights_only=True)
    set_global_rng_state(saved["rng"])
    set_numpy_generator_state(generator, saved["generator"])
    assert draws(generator) == expected


def test_a_kind_that_cannot_checkpoint_refuses_the_key():
    from typing import Literal

    from pydantic import ValidationError

    from plastilab.core.schema import ScenarioConfig

    class NoCheckpoints(ScenarioConfig):  # a kind whose runner saves nothing (none ships now)
        kind: Literal["no_checkpoints"]

    NoCheckpoints(kind="no_checkpoints", name="x")
    with pytest.raises(ValidationError) as refused:
        NoCheckpoints(kind="no_checkpoints", name="x", checkpoint_every=10)
    error = refused.value.errors()[0]
    assert error["loc"] == ("checkpoint_every",) and "cannot checkpoint yet" in error["msg"]
