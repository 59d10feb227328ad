"""Small studies for the studies tests: seconds of DQN on the block MDP, probe at two checkpoints."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

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
    lines = []
    for line in (study_dir / "trials.jsonl").read_text().splitlines():
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
