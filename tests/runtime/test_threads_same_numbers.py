"""The thread count is part of the resolved scenario (``threads``, default 1, ``--threads``
overrides it) and of meta.json, the same for the lab and `plastilab run`: the same scenario,
seed and device give the same numbers from either face."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.runtime.training_child import LaunchSpec
from plastilab.runtime.training_process import TrainingProcess

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "adam-tiny.toml"
SHORT = ("training.n_tasks=2", "training.steps_per_task=30", "training.log_every=10", "seed=3")

# Generous: a spawned child imports torch first, a minute or more on a busy machine.
END_TIMEOUT_S = 300


def without_wall_time(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in read_jsonl(run_dir / layout.METRICS)]


def lab_run(out: Path) -> Path:
    """A run as the lab starts it: a spawned training child, threads left to the scenario."""
    process = TrainingProcess(LaunchSpec(str(TINY), SHORT, "cpu", str(out)))
    process.start()
    try:
        deadline = time.monotonic() + END_TIMEOUT_S
        while not process.ended and time.monotonic() < deadline:
            process.poll(0.2)
        assert process.ended, f"the lab's run never ended ({process.death_reason() if process.died else 'still running'})"
    finally:
        process.shutdown(timeout=60)
    (run_dir,) = out.glob("*/*")
    return run_dir


@pytest.mark.timeout(900)
def test_the_lab_and_plastilab_run_give_the_same_numbers(tmp_path):
    lab = lab_run(tmp_path / "lab")
    sets = [a for s in SHORT for a in ("--set", s)]
    result = subprocess.run(
        [sys.executable, "-m", "plastilab", "run", str(TINY), *sets, "--device", "cpu", "--out", str(tmp_path / "cli"), "--quiet"],
        capture_output=True, text=True, timeout=END_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr
    (cli,) = (tmp_path / "cli").glob("*/*")
    for run_dir in (lab, cli):
        assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "finished"
        assert json.loads((run_dir / layout.META).read_text())["threads"] == 1
        assert tomllib.loads((run_dir / layout.SCENARIO).read_text())["threads"] == 1
    numbers = without_wall_time(lab)
    assert len(numbers) > 100 and numbers == without_wall_time(cli)


def test_threads_flag_overrides_the_scenario_and_is_recorded(tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    code, out, err = run_cli(capsys, "run", str(TINY), "--threads", "2", "--out", str(tmp_path), "--quiet", "--set", "training.steps_per_task=5")
    assert code == 0, err
    (run_dir,) = tmp_path.glob("*/*")
    assert json.loads((run_dir / layout.META).read_text())["threads"] == 2
    assert tomllib.loads((run_dir / layout.SCENARIO).read_text())["threads"] == 2
    assert torch.get_num_threads() == before  # the process's own setting comes back


def test_a_bad_thread_count_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", str(TINY), "--set", "threads=0", "--out", str(tmp_path))
    assert_one_line_error(code, err, "threads")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
