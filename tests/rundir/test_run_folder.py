"""A run folder holds everything, deterministically, and stays consistent however a run ends."""

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from plastilab.core.driver import drive
from plastilab.core.events import RunFailed, RunFinished
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import RunFolder, read_jsonl
from plastilab.rundir.writer import RunFolderWriter

SHORT = ["training.n_tasks=2", "training.steps_per_task=40", "training.log_every=10"]


def run_to_folder(path, overrides, root):
    scenario = load_scenario(path, overrides)
    run_dir = layout.new_run_dir(scenario.name, root)
    end = drive(scenario, [RunFolderWriter(run_dir, scenario, command=["test"])], run_dir=str(run_dir))
    return run_dir, end


def without_wall_time(lines):
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in lines]


def test_run_folder_contents(tiny_scenario_path, tmp_path):
    run_dir, end = run_to_folder(tiny_scenario_path, SHORT + ["training.lr=0.002"], tmp_path)
    assert isinstance(end, RunFinished)
    assert run_dir.parent.name == "adam-tiny" and run_dir.parent.parent == tmp_path
    for name in (layout.SCENARIO, layout.META, layout.METRICS, layout.STATUS, layout.SUMMARY):
        assert (run_dir / name).is_file(), name
    resolved = tomllib.loads((run_dir / layout.SCENARIO).read_text())
    assert resolved["training"]["lr"] == 0.002 and resolved["training"]["n_tasks"] == 2
    assert resolved["variants"]["sgd"]["optimizer"] == "sgd"  # defaults are written out too
    meta = json.loads((run_dir / layout.META).read_text())
    assert {"plastilab", "torch", "python", "device", "seed", "command"} <= set(meta)
    assert meta["device"] == "cpu" and meta["seed"] == 0 and meta["command"] == ["test"]
    status = json.loads((run_dir / layout.STATUS).read_text())
    assert status["state"] == "finished" and status["last_step"] == 80
    lines = read_jsonl(run_dir / layout.METRICS)
    assert all({"step", "series", "tag", "value", "wall_time"} <= set(r) for r in lines)
    tags = {r["tag"] for r in lines}
    assert {"train/loss", "train/accuracy", "task/final_loss", "units/dead_fraction", "grads/norm",
            "updates/norm", "optim/second_moment_mean", "task/index"} <= tags
    final = [r for r in lines if r["tag"] == "task/final_loss"]
    assert sorted({(r["series"], r["step"]) for r in final}) == sorted(
        (s, step) for s in ("adam-default", "adam-beta2-eps", "sgd") for step in (40, 80)
    )
    summary = json.loads((run_dir / layout.SUMMARY).read_text())
    assert summary["state"] == "finished"
    assert len(summary["series"]["sgd"]["per_task"]["task/final_loss"]) == 2
    assert "optim/second_moment_mean" not in summary["series"]["sgd"]["final"]  # SGD has no v


def test_same_seed_same_metrics(tiny_scenario_path, tmp_path):
    a, _ = run_to_folder(tiny_scenario_path, SHORT, tmp_path / "a")
    b, _ = run_to_folder(tiny_scenario_path, SHORT, tmp_path / "b")
    c, _ = run_to_folder(tiny_scenario_path, SHORT + ["seed=1"], tmp_path / "c")
    first = without_wall_time(read_jsonl(a / layout.METRICS))
    assert first == without_wall_time(read_jsonl(b / layout.METRICS))
    assert first != without_wall_time(read_jsonl(c / layout.METRICS))


def test_same_seed_same_metrics_with_every_instrument_on(tiny_scenario_path, tmp_path):
    instruments = [
        "instruments.stats.every=20",
        "instruments.probe={every = 40, n_targets = 2, probe_steps = 5, n_examples = 32}",
        "instruments.hessian={every = 40, n_examples = 32, lanczos_iterations = 4, n_starts = 1, trace_samples = 2}",
        "instruments.covariance={every = 40, n_examples = 16}",
    ]
    a, _ = run_to_folder(tiny_scenario_path, SHORT + instruments, tmp_path / "a")
    b, _ = run_to_folder(tiny_scenario_path, SHORT + instruments, tmp_path / "b")
    first = without_wall_time(read_jsonl(a / layout.METRICS))
    assert {"probe/final_loss", "hessian/top_eigenvalue", "gradients/mean_similarity"} <= {r["tag"] for r in first}
    assert first == without_wall_time(read_jsonl(b / layout.METRICS))
    assert read_jsonl(a / layout.ARRAYS) and len(read_jsonl(a / layout.ARRAYS)) == len(read_jsonl(b / layout.ARRAYS))


def test_nan_loss_fails_with_one_line_and_keeps_the_numbers(tiny_scenario_path, tmp_path):
    run_dir, end = run_to_folder(tiny_scenario_path, SHORT + ["variants.sgd.lr=1e12"], tmp_path)
    assert isinstance(end, RunFailed)
    assert "\n" not in end.error
    assert end.error.startswith(f"{tiny_scenario_path}: variants.sgd.lr: the loss of series 'sgd' became")
    status = json.loads((run_dir / layout.STATUS).read_text())
    assert status["state"] == "failed" and status["error"] == end.error
    lines = read_jsonl(run_dir / layout.METRICS)
    flagged = [r for r in lines if r["series"] == "sgd" and r["tag"] == "train/loss" and r["value"] is None]
    assert flagged and flagged[-1]["nonfinite"] in ("nan", "inf")
    assert any(r["series"] == "adam-default" for r in lines)  # the other series' numbers are kept


def test_reader_skips_lines_that_break_the_contract(tmp_path):
    good = {"step": 1, "series": "a", "tag": "train/loss", "value": 1.0}
    lines = [good, [1, 2], {"step": 2, "tag": "x", "value": 1.0}, {"step": 3, "series": "a", "tag": "t", "value": "high"}]
    (tmp_path / layout.METRICS).write_text("".join(json.dumps(x) + "\n" for x in lines))
    (tmp_path / layout.SUMMARY).write_text('{"series": [1, 2]}')
    run = RunFolder.open(tmp_path)
    events = run.events()
    assert len(events) == 1 and events[0].values == {"train/loss": 1.0}
    assert run.summary is None  # the wrong shape is not trusted...
    assert run.summary_or_rebuilt()["series"]["a"]["final"] == {"train/loss": 1.0}  # ...it is rebuilt


def test_reader_skips_a_truncated_last_line(tmp_path):
    path = tmp_path / layout.METRICS
    path.write_text('{"step": 1, "series": "a", "tag": "t", "value": 1.0}\n{"step": 2, "seri')
    assert read_jsonl(path) == [{"step": 1, "series": "a", "tag": "t", "value": 1.0}]


# Generous: the CLI imports torch before it writes a line, which takes a minute or more when
# other processes keep the cores busy. Each wait ends as soon as its condition holds.
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 120


def sigint_as_from_a_terminal() -> None:
    """Ctrl-C's default action in the child, whatever the test runner inherited: a shell without
    job control starts a background command (`make test &` in a script, some CI runners) with
    SIGINT ignored, a child inherits that, and Python then leaves SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.timeout(600)
def test_ctrl_c_stops_cleanly(tiny_scenario_path, tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "plastilab", "run", str(tiny_scenario_path), "--out", str(tmp_path), "--quiet",
           "--set", "training.steps_per_task=100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=sigint_as_from_a_terminal)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        metrics = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("*/*/" + layout.METRICS))
            if found and found[0].stat().st_size > 2000:
                metrics = found[0]
                break
            time.sleep(0.2)
        assert metrics is not None, f"the run never wrote metrics (exit code {proc.poll()})"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    run = RunFolder.open(metrics.parent)
    assert run.state == "interrupted"
    assert run.status["last_step"] > 0
    assert run.summary["state"] == "interrupted"
    assert all(json.loads(line) for line in metrics.read_text().splitlines())  # every line whole
