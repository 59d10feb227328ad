"""A study folder under a hostile user: study.toml edited between a stop and its resume, a second
scheduler started on a study that is still running, a ledger that is a FIFO, a folder or not
UTF-8. Each is refused in one line (or read as far as it can be), never run twice or hung on."""

from __future__ import annotations

import json
import os
import signal

import pytest

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.studies.folder import LEDGER, STUDY_FILE, new_study_dir
from plastilab.studies.ledger import Ledger
from plastilab.studies.study_file import load_study_plan
from studies_helpers import latest_states, plastilab, running_status, start, study_dirs, tiny_study, wait_for

pytestmark = pytest.mark.timeout(600)


def _stopped_study(tmp_path, **kwargs):
    """A study folder as a scheduler killed before any trial ran leaves it: every trial pending."""
    path, settings = tiny_study(tmp_path, name="edited", seeds=2, axes="\"env.episode_length\" = [50, 60]", **kwargs)
    study = load_study_plan(path, settings)
    study_dir = new_study_dir(study, tmp_path / "runs")
    ledger = Ledger(study_dir)
    for trial in study.trials:
        ledger.record(trial.id, "pending", overrides=trial.overrides)
    ledger.close()
    return study_dir


@pytest.mark.parametrize("record", ["recorded", "older folder"])
def test_a_study_toml_edited_before_its_resume_is_refused_naming_the_key(capsys, tmp_path, record):
    study_dir = _stopped_study(tmp_path)
    if record == "older folder":  # made before the record existed: the ledger's overrides still tell
        (study_dir / ".study.json").unlink()
    toml = study_dir / STUDY_FILE
    text = toml.read_text()
    assert "60" in text
    toml.write_text(text.replace("60", "70"))
    ledger_before = (study_dir / LEDGER).read_bytes()
    code, _, err = run_cli(capsys, "run", "--resume", str(study_dir), "--quiet")
    assert_one_line_error(code, err, str(toml), "changed since the study started", "60", "70")
    assert (study_dir / LEDGER).read_bytes() == ledger_before
    assert not list(study_dir.glob("trials/*/*"))  # no trial ran at the new values


@pytest.mark.parametrize("make", ["fifo", "folder", "not utf-8"])
def test_a_hostile_ledger_never_hangs_or_tracebacks(capsys, tmp_path, make):
    study_dir = _stopped_study(tmp_path)
    ledger = study_dir / LEDGER
    if make == "not utf-8":
        ledger.write_bytes(ledger.read_bytes() + b'{"trial": "t9\xff\xfe", "state": "x"}\n\xff\xfe\n')
        from plastilab.studies.ledger import read_ledger_counted

        latest, skipped = read_ledger_counted(ledger)
        assert skipped == 2 and set(latest) == {"t000", "t001", "t002", "t003"}
    else:
        ledger.unlink()
        os.mkfifo(ledger) if make == "fifo" else ledger.mkdir()
    code, _, err = run_cli(capsys, "report", str(study_dir))
    assert "Traceback" not in err and "UnicodeDecodeError" not in err and "IsADirectoryError" not in err, err
    if make != "not utf-8":
        code, _, err = run_cli(capsys, "run", "--resume", str(study_dir), "--quiet")
        assert_one_line_error(code, err, str(ledger))


def test_a_second_scheduler_on_a_running_study_is_refused(tmp_path):
    path, settings = tiny_study(tmp_path, name="busy", seeds=2, steps=20000)
    out = tmp_path / "runs"
    # one trial a job, so "nothing started twice" counts trial folders (a population starts both)
    process = start(path, out, settings, "--workers", "1", "--population-size", "1")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "busy") or [None])[0], 120, "the study folder")
        wait_for(lambda: running_status(study_dir), 400, "a trial to be running")
        second = plastilab("run", "--resume", str(study_dir), "--quiet", timeout=300)
        assert_one_line_error(second.returncode, second.stderr, str(study_dir), "another process", str(process.pid))
        assert "abandoned" not in latest_states(study_dir).values()
        assert len(list(study_dir.glob("trials/*/*"))) == 1  # nothing started twice
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not (study_dir / ".scheduling").exists()  # the claim goes with its scheduler
    states = latest_states(study_dir)
    assert "running" not in states.values() and "abandoned" not in states.values(), json.dumps(states)


def _pool_workers(scheduler_pid: int) -> list[int]:
    """The scheduler's spawned pool workers (not multiprocessing's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == scheduler_pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def test_a_worker_killed_as_the_oom_killer_does_fails_its_trial_and_the_study_goes_on(tmp_path):
    # long enough that a trial is seen running with a step logged even on an idle machine (at
    # 400 steps a trial could start and finish between two looks)
    path, settings = tiny_study(tmp_path, name="oom", seeds=3, steps=2000)
    out = tmp_path / "runs"
    # one trial a job: the killed worker's trial fails, the others run after it (a killed
    # population's worker fails every trial of that population, as each of them died with it)
    process = start(path, out, settings, "--workers", "1", "--population-size", "1")
    try:
        study_dir = wait_for(lambda: (study_dirs(out, "oom") or [None])[0], 120, "the study folder")
        wait_for(lambda: running_status(study_dir), 400, "a trial to be running")
        (worker,) = wait_for(lambda: _pool_workers(process.pid), 60, "the pool's worker")
        os.kill(worker, signal.SIGKILL)
        _, stderr = process.communicate(timeout=500)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr, stderr[-3000:]
    assert process.returncode == 1, stderr[-2000:]  # some trial failed
    states = latest_states(study_dir)
    assert sorted(states.values()) == ["failed", "finished", "finished"], states
    (failed,) = [e for e in reversed([json.loads(line) for line in (study_dir / LEDGER).read_text().splitlines()]) if e["state"] == "failed"]
    assert "worker process died" in failed["error"]


def test_a_report_on_a_ledger_with_unreadable_lines_says_how_many_it_skipped(capsys, tmp_path):
    study_dir = _stopped_study(tmp_path)
    ledger = study_dir / LEDGER
    ledger.write_bytes(ledger.read_bytes() + b'{"trial": "t001", "state": "finished"\n\xff\xfe not json\n')
    code, out, err = run_cli(capsys, "report", str(study_dir))
    assert code == 0 and "Traceback" not in err, err
    assert "2 unreadable lines skipped" in out + err
