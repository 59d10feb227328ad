"""Small studies for the studies tests: seconds of DQN on the block MDP, probe at two checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from plastilab.studies.folder import new_study_dir
from plastilab.studies.ledger import Ledger
from plastilab.studies.study_file import load_study_plan

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "scenarios" / "block-mdp-tiny.toml"


def tiny_study(tmp_path: Path, *, name: str = "tiny", seeds: int = 1, steps: int = 150, axes: str = "", extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'''kind = "study"
name = "{name}"
base = "{TINY}"
seeds = {seeds}
{extra}
[axes]
{axes}
[analysis]
kind = "falsification"
''',
        encoding="utf-8",
    )
    settings = [
        f"training.total_steps={steps}",
        f"instruments.probe.every={max(1, steps // 2)}",
        f"instruments.stats.every={max(1, steps // 2)}",
        "instruments.hessian.every=0",
        "instruments.covariance.every=0",
        "training.brownian=false",
    ]
    return path, settings


def plastilab(*args: str, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plastilab", *args], capture_output=True, text=True, timeout=timeout, **kwargs)


def set_args(settings: list[str]) -> list[str]:
    return [a for s in settings for a in ("--set", s)]


def study_dirs(out: Path, name: str) -> list[Path]:
    return sorted((out / name).iterdir()) if (out / name).is_dir() else []


def ledger_lines(study_dir: Path) -> list[dict]:
    ledger = study_dir / "trials.jsonl"
    if not ledger.exists():  # the study's folder is made before its ledger's first line
        return []
    lines = []
    for line in ledger.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return lines


def latest_states(study_dir: Path) -> dict[str, str]:
    return {entry["trial"]: entry["state"] for entry in ledger_lines(study_dir)}


def wait_for(condition, timeout: float, what: str, period: float = 0.2):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(period)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def start(path: Path, out: Path, settings: list[str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "plastilab", "run", str(path), "--out", str(out), "-q", *extra, *set_args(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )


def running_status(study_dir: Path, stepped: bool = True) -> Path | None:
    """A trial run folder whose status says running (with a step logged, if ``stepped``)."""
    for status in study_dir.glob("trials/*/*/status.json"):
        try:
            data = json.loads(status.read_text())
        except ValueError:
            continue
        if data.get("state") == "running" and (data.get("last_step", 0) > 0 or not stepped):
            return status.parent
    return None


def signal_while_running(path: Path, settings: list[str], out: Path, name: str, signum: int, *, group: bool, workers: int = 2):
    """Start the study, send ``signum`` once a trial is training (to the whole process group, as a
    terminal's Ctrl-C or `timeout` does, or to the scheduler alone, as `kill` does) and wait for
    the end. Returns (exit code, stderr, study folder)."""
    process = start(path, out, settings, "--workers", str(workers))
    try:
        study_dir = wait_for(lambda: (study_dirs(out, name) or [None])[0], 120, "the study folder")
        wait_for(lambda: running_status(study_dir), 240, "a trial to be running")
        (os.killpg if group else os.kill)(process.pid, signum)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, stderr, study_dir


def assert_truthful_states(study_dir: Path, name: str) -> dict[str, str]:
    """After a stop: no trial still says running, at least one was interrupted, a pending trial
    never made a run folder, and every other trial's one run folder says what the ledger says."""
    states = latest_states(study_dir)
    assert "running" not in states.values() and "interrupted" in states.values(), states
    assert set(states.values()) <= {"interrupted", "pending", "finished"}, states
    for trial, state in states.items():
        folders = list(study_dir.glob(f"trials/{name}.{trial}/*/status.json"))
        if state == "pending":
            assert folders == []  # never started
        else:
            (status,) = folders
            assert json.loads(status.read_text())["state"] == state
    return states


def stopped_study(tmp_path, **kwargs):
    """A study folder as a scheduler killed before any trial ran leaves it: every trial pending."""
    path, settings = tiny_study(tmp_path, name="edited", seeds=2, axes="\"env.episode_length\" = [50, 60]", **kwargs)
    study = load_study_plan(path, settings)
    study_dir = new_study_dir(study, tmp_path / "runs")
    ledger = Ledger(study_dir)
    for trial in study.trials:
        ledger.record(trial.id, "pending", overrides=trial.overrides)
    ledger.close()
    return study_dir
