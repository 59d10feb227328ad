"""SIGTERM, SIGHUP, `timeout` and a script's Ctrl-C end a headless run as Ctrl-C does: status
``interrupted``, summary.json written, an exit code that names the signal; and a run folder is
whole (status.json written) before any signal can interrupt its making."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.studies.listing import read_run
from plastilab.rundir.state import read_state
from plastilab.runtime import launcher
from plastilab.runtime.signals import StopSignal, signals_held, stop_signals

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "adam-tiny.toml"
LONG = ["--set", "training.steps_per_task=100000"]

# Generous: the CLI imports torch before it writes a line, which takes a minute or more when
# other processes keep the cores busy. Each wait ends as soon as its condition holds.
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 120


def plastilab_run(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "plastilab", "run", str(TINY), "--out", str(out), "--quiet", *LONG, *extra]


def _default_stop_signals() -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def wait_for_metrics(out: Path, proc: subprocess.Popen) -> Path:
    """The run folder, once its metrics.jsonl holds a few lines (the run is training)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(out.glob("*/*/" + layout.METRICS))
        if found and found[0].stat().st_size > 2000:
            return found[0].parent
        time.sleep(0.2)
    raise AssertionError(f"the run never wrote metrics (exit code {proc.poll()})")


def assert_ended_interrupted(run_dir: Path) -> None:
    status = json.loads((run_dir / layout.STATUS).read_text())
    assert status["state"] == "interrupted" and status["last_step"] > 0
    assert json.loads((run_dir / layout.SUMMARY).read_text())["state"] == "interrupted"
    assert read_state(run_dir) == "interrupted" and read_run(run_dir).state == "interrupted"
    assert not list(run_dir.glob("*.tmp"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_end_a_run_like_ctrl_c(tmp_path, number, code):
    # The child starts with every stop signal at its default, whatever this process inherited:
    # a suite started under `nohup` (or from a background script) passes SIGHUP on ignored, and
    # a run rightly respects nohup, so the signal under test would never arrive.
    proc = subprocess.Popen(
        plastilab_run(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_default_stop_signals
    )
    try:
        run_dir = wait_for_metrics(tmp_path, proc)
        proc.send_signal(number)
        _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"stopped by {signal.Signals(number).name}" in err
    assert_ended_interrupted(run_dir)


@pytest.mark.timeout(900)
def test_timeout_leaves_a_truthful_status(tmp_path):
    # `timeout` sends SIGTERM when its time is up. Torch's import alone may outlast a short
    # limit on a busy machine (then no folder exists, which is also the truth): the limit
    # doubles until a run folder was made before the signal came.
    limit = 5
    while True:
        out = tmp_path / f"limit-{limit}"
        result = subprocess.run(["timeout", str(limit), *plastilab_run(out)], capture_output=True, text=True, timeout=limit + STOP_TIMEOUT_S)
        assert result.returncode == 124, result.stderr  # timed out, not crashed
        assert "Traceback" not in result.stderr
        folders = [p for p in out.glob("*/*") if p.is_dir()]
        if folders or limit >= 160:
            break
        limit *= 2
    assert folders, f"no run folder was made within {limit} s"
    (run_dir,) = folders  # whole: status.json says how it ended
    assert read_state(run_dir) == "interrupted"
    assert json.loads((run_dir / layout.SUMMARY).read_text())["state"] == "interrupted"
    assert not list(out.glob("*/.*"))  # no half-made (.partial) folder left behind


@pytest.mark.timeout(600)
def test_a_script_can_stop_a_background_run_with_sigint(tmp_path):
    # In a script, `cmd &` starts cmd with SIGINT ignored; the run takes it back.
    script = '"$@" & echo $!; wait $!'
    proc = subprocess.Popen(["sh", "-c", script, "sh", *plastilab_run(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        pid = int(proc.stdout.readline())
        run_dir = wait_for_metrics(tmp_path, proc)
        os.kill(pid, signal.SIGINT)
        _, err = proc.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert_ended_interrupted(run_dir)


def test_a_finished_run_leaves_the_signal_handlers_as_it_found_them(tmp_path, capsys):
    from hostile_helpers import run_cli

    # An event loop an earlier test left behind resets its signal handlers when collected:
    # collect it now, then set handlers of our own to find again.
    gc.collect()
    saved = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    before = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: lambda *_: None, signal.SIGHUP: signal.SIG_DFL}
    try:
        for number, handler in before.items():
            signal.signal(number, handler)
        code, out, err = run_cli(capsys, "run", str(TINY), "--out", str(tmp_path), "--quiet", "--set", "training.steps_per_task=5")
        assert code == 0, err
        assert {n: signal.getsignal(n) for n in before} == before
        # A child process started afterwards does not inherit SIGINT ignored. (Checked before
        # the handlers pytest started with are put back: a suite started with `&` from a script
        # runs with SIGINT ignored, and its children rightly inherit that.)
        child = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"], capture_output=True, text=True, timeout=120)
        assert child.stdout.strip() == "False"
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def test_stop_signals_catches_an_inherited_ignored_sigint_but_respects_nohup():
    saved = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `cmd &` in a script leaves it
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup` leaves it
        with stop_signals() as received:
            assert callable(signal.getsignal(signal.SIGINT))
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            with pytest.raises(StopSignal) as stop:
                signal.raise_signal(signal.SIGINT)
                time.sleep(0)  # the handler runs between bytecodes: raised by now
        assert stop.value.exit_code == 130 and received == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # put back as found
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def test_held_signals_wait_for_the_block_then_land():
    landed = []
    previous = signal.signal(signal.SIGTERM, lambda number, frame: landed.append(number))
    try:
        with signals_held():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            assert landed == []  # held
        assert landed == [signal.SIGTERM]  # delivered once, after the block
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_folder_appears_leaves_a_whole_interrupted_folder(tmp_path, monkeypatch, number):
    # The signal lands the moment the folder has its name, before the writer has opened a file.
    made = []

    def new_run_dir_then_signal(*args, **kwargs):
        path = layout.new_run_dir(*args, **kwargs)
        made.append(path)
        signal.raise_signal(number)
        return path

    monkeypatch.setattr(launcher, "new_run_dir", new_run_dir_then_signal)
    scenario = load_scenario(TINY, ["training.steps_per_task=5"], device="cpu")
    with stop_signals() as received:
        launched = launcher.launch(scenario, tmp_path, command=["test"])
    assert received == [number]
    assert launched.state == "interrupted" and made == [launched.run_dir]
    for name in (layout.STATUS, layout.SUMMARY, layout.SCENARIO, layout.METRICS):
        assert (launched.run_dir / name).is_file(), name
    assert read_state(launched.run_dir) == "interrupted"


def test_a_folder_that_cannot_be_made_whole_is_not_left_behind(tmp_path):
    def fail(folder: Path) -> None:
        (folder / layout.STATUS).write_text("{}")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        layout.new_run_dir("x", tmp_path, prepare=fail)
    assert list((tmp_path / "x").iterdir()) == []
    # A half-made folder (its maker killed) is hidden and never listed as a run.
    partial = tmp_path / "x" / ".20250101-000000-abcdef.partial"
    partial.mkdir()
    (partial / layout.STATUS).write_text(json.dumps({"state": "running", "pid": 1}))
    assert layout.find_run_dirs(tmp_path) == []


class _SignalsInFinalizer:
    """Sends ``number`` to this process from its ``__del__``: the handler runs inside the
    finalizer, where Python prints and drops the exception it raises."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __del__(self) -> None:
        os.kill(os.getpid(), self.number)
        for _ in range(1000):  # bytecodes for the handler to run between, still inside __del__
            pass


class _DropsASignalAt:
    def __init__(self, step: int, number: int) -> None:
        self.step, self.number, self.sent = step, number, False

    def handle(self, event) -> None:
        from plastilab.core.events import Scalars

        if isinstance(event, Scalars) and event.step >= self.step and not self.sent:
            self.sent = True
            _SignalsInFinalizer(self.number)  # made and collected at once


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_whose_exception_a_finalizer_swallowed_still_ends_the_run(tmp_path, monkeypatch, number):
    from plastilab.headless import run as headless_run

    scenario = load_scenario(TINY, ["training.steps_per_task=300"], device="cpu")
    saved = signal.getsignal(number)
    signal.signal(number, signal.SIG_DFL)  # as a terminal starts a run, whatever pytest inherited
    try:
        dropper = _DropsASignalAt(20, number)
        monkeypatch.setattr(headless_run, "launch", lambda *a, consumers=(), **kw: launcher.launch(*a, consumers=[*consumers, dropper], **kw))
        outcome = headless_run.run_headless(scenario, tmp_path, quiet=True)
    finally:
        signal.signal(number, saved)
    assert dropper.sent and outcome.signal == number
    assert outcome.state == "interrupted", "the signal was lost with the exception its handler raised"
    status = json.loads((outcome.run_dir / layout.STATUS).read_text())
    assert status["last_step"] < 3 * 300
