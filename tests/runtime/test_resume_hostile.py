"""`--resume` on folders that users and bad luck have changed: each is refused in one line that
names the file and the fix, exit 2, and the folder is left exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.core.control import RunControl
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.runtime import launcher
from plastilab.runtime.checkpoint_save import CHECKPOINT
from plastilab.runtime.resume import load_checkpoint
from resume_helpers import SMALL, TINY, StopAfter, copy_of, lines, snapshot, stopped_run, without_times


def test_an_edited_scenario_is_refused_naming_the_key(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    toml = run_dir / layout.SCENARIO
    text = toml.read_text()
    assert "lr = 0.001" in text
    toml.write_text(text.replace("lr = 0.001", "lr = 0.5", 1))  # silently another run from here on
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(toml), "lr", "changed since the checkpoint")
    assert snapshot(run_dir) == before


def test_a_checkpoint_from_another_run_is_refused(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    other = stopped_run(tmp_path / "other", [*SMALL[:2], "model.hidden=[8, 8]", *SMALL[3:]])
    shutil.copy(other / CHECKPOINT, run_dir / CHECKPOINT)
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(run_dir / layout.SCENARIO), "model.hidden")
    assert snapshot(run_dir) == before


@pytest.fixture
def read_only(tmp_path):
    """Makes a folder read-only for this process: a read-only bind mount as root (whom file
    modes do not stop), file modes otherwise; undone afterwards."""
    mounted: list[Path] = []
    changed: list[Path] = []

    def make(folder: Path) -> Path:
        if os.geteuid() == 0:
            view = folder.with_name(folder.name + "-ro")
            view.mkdir()
            for args in (["mount", "--bind", str(folder), str(view)], ["mount", "-o", "remount,ro,bind", str(view)]):
                done = subprocess.run(args, capture_output=True, text=True)
                if done.returncode != 0:
                    if mounted:
                        subprocess.run(["umount", str(view)], capture_output=True)
                    pytest.skip(f"cannot make a read-only bind mount here ({done.stderr.strip() or done.returncode})")
                if not mounted:
                    mounted.append(view)
            return view
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
            changed.append(path)
        return folder

    yield make
    for view in mounted:
        subprocess.run(["umount", str(view)], capture_output=True)
    for path in changed:
        path.chmod(path.stat().st_mode | 0o200)


def test_a_read_only_run_folder_is_refused_in_one_line(capsys, stopped, tmp_path, read_only):
    run_dir = copy_of(stopped, tmp_path)
    before = snapshot(run_dir)
    view = read_only(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(view), "--quiet")
    assert_one_line_error(code, err, str(view), "read-only", "chmod")
    assert snapshot(run_dir) == before


def test_a_full_disk_during_a_checkpoint_is_one_line_and_leaves_no_temporary_file(capsys, tmp_path):
    """torch.save on a full disk raises a RuntimeError, not an OSError: it must still end as the
    checkpoint's one line, with the half-written checkpoint.pt.tmp removed (it filled the disk)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the disk-full tests run where that is allowed")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or mounted.returncode}); the disk-full tests need one")
    try:
        # The metrics of 40 steps fit in 200 KiB; the first checkpoint (~170 KiB) does not.
        overrides = [*SMALL[:3], "training.n_tasks=3", "training.steps_per_task=300"]
        code, _, err = run_cli(capsys, "run", str(TINY), "--out", str(disk), "--quiet", "--device", "cpu", *(a for o in overrides for a in ("--set", o)))
        lines = [line for line in err.splitlines() if line.startswith("plastilab: ")]
        assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
        assert "checkpoint.pt: cannot write the checkpoint (No space left on device)" in lines[0], lines[0]
        assert not list(disk.rglob("*.tmp"))
        run_dir = next(disk.rglob(layout.STATUS)).parent
        assert "checkpoint.pt" in json.loads((run_dir / layout.STATUS).read_text())["error"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("damage", ["truncated", "empty", "text"])
def test_a_damaged_checkpoint_is_called_damaged_and_the_fix_is_named(capsys, stopped, tmp_path, damage):
    run_dir = copy_of(stopped, tmp_path)
    checkpoint = run_dir / CHECKPOINT
    whole = checkpoint.read_bytes()
    checkpoint.write_bytes({"truncated": whole[: len(whole) // 2], "empty": b"", "text": b"not a checkpoint\n"}[damage])
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(checkpoint), "damaged", f"plastilab run {run_dir / layout.SCENARIO}")
    assert "not a plain checkpoint" not in err  # that is said of a file holding objects, not of a broken one
    assert snapshot(run_dir) == before


def test_a_run_stopped_before_its_first_checkpoint_says_so(capsys, tmp_path):
    run_dir = stopped_run(tmp_path, ["checkpoint_every=100000", *SMALL[1:]], step=20)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    # checkpoint_every is set: "set checkpoint_every" would send the user to fix what is not broken.
    assert_one_line_error(code, err, str(run_dir), "before its first checkpoint", "checkpoint_every = 100000", "plastilab run")


def test_a_data_file_cut_shorter_than_the_checkpoint_names_the_fix(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    metrics = run_dir / layout.METRICS
    os.truncate(metrics, 100)
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(metrics), "shorter than at the checkpoint", f"plastilab run {run_dir / layout.SCENARIO}")
    assert snapshot(run_dir) == before


def test_resume_refuses_out_rather_than_ignoring_it(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--out", str(tmp_path / "elsewhere"), "--quiet")
    assert_one_line_error(code, err, "--out", "in its own folder")
    assert snapshot(run_dir) == before and not (tmp_path / "elsewhere").exists()


def test_an_unreadable_status_names_the_fix(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    (run_dir / layout.STATUS).write_text("{half a stat")
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(run_dir / layout.STATUS), "unreadable", '{"state": "interrupted"}')
    assert snapshot(run_dir) == before
    # The fix it names works: the run resumes and finishes.
    (run_dir / layout.STATUS).write_text('{"state": "interrupted"}')
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert code == 0, err
    assert json.loads((run_dir / layout.STATUS).read_text())["state"] == "finished"


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t.replace("checkpoint_every = 40", "checkpoint_every = 0"), "checkpoint_every"),
        (lambda t: t.replace("checkpoint_every = 40\n", ""), "checkpoint_every"),
        (lambda t: t.replace("checkpoint_every = 40", "checkpoint_every = 7"), "checkpoint_every"),
        (lambda t: t.replace('description = "', 'description = "mine: ', 1), "description"),
        (lambda t: t.replace("threads = 1", "threads = 2"), "threads"),
    ],
    ids=["checkpoint_every-0", "checkpoint_every-deleted", "checkpoint_every-7", "description", "threads"],
)
def test_any_change_to_the_recorded_scenario_is_refused_naming_the_key(capsys, stopped, tmp_path, edit, key):
    """Even a key that changes no number changes what the folder records: checkpoint_every = 0
    once made the resumed run start again from step 0 and append a second run to the folder,
    and a new description would sit beside numbers made under the old one. Refused, the key
    named, the folder untouched."""
    run_dir = copy_of(stopped, tmp_path)
    toml = run_dir / layout.SCENARIO
    text = toml.read_text()
    assert "checkpoint_every = 40" in text and 'description = "' in text and "threads = 1" in text
    toml.write_text(edit(text))
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, f"({key}:", f"put {key} back")
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("edit", ["a line added at the top", "a byte garbled near the checkpoint"])
def test_a_data_file_changed_before_the_checkpoint_is_refused(capsys, stopped, tmp_path, edit):
    """Cutting a changed file back to the checkpoint's size would cut a line in two (or keep a
    wrong one) and the resumed lines would follow it: refused, the file named."""
    run_dir = copy_of(stopped, tmp_path)
    metrics = run_dir / layout.METRICS
    saved = load_checkpoint(run_dir)["files"][layout.METRICS]
    data = bytearray(metrics.read_bytes())
    assert len(data) > saved  # lines after the checkpoint, to be cut back by a resume
    if edit == "a line added at the top":
        data[:0] = b'{"note": "mine"}\n'
    else:
        data[saved - 20] = ord("#")
    metrics.write_bytes(bytes(data))
    before = snapshot(run_dir)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert_one_line_error(code, err, str(metrics), "changed before the checkpoint", f"plastilab run {run_dir / layout.SCENARIO}")
    assert snapshot(run_dir) == before


def test_a_data_file_garbled_after_the_checkpoint_still_resumes(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    with open(run_dir / layout.METRICS, "ab") as f:
        f.write(b'{"step": 5\x00\x00 garbage, no newline')
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert code == 0, err
    whole = launcher.launch(load_scenario(TINY, SMALL), tmp_path / "whole").run_dir
    assert without_times(lines(run_dir / layout.METRICS)) == without_times(lines(whole / layout.METRICS))


def test_a_trial_resumed_by_hand_counts_as_finished_when_its_study_resumes(tmp_path):
    """`plastilab run --resume` on an interrupted trial's run folder finishes it; the study's
    ledger still says interrupted. Resuming the study must take the finished folder, not run the
    trial again from step 0 in a new folder."""
    from plastilab.studies.folder import CHECKPOINTS_DIR
    from plastilab.studies.ledger import Ledger
    from plastilab.studies.runner import reconcile, resumable_run_dir, trial_root
    from plastilab.studies.study_file import load_study_plan, resolve_trial
    from studies_helpers import tiny_study

    path, settings = tiny_study(tmp_path, name="byhand", steps=60)
    study = load_study_plan(path, [*settings, "checkpoint_every=20"])
    trial = study.trials[0]
    study_dir = tmp_path / "study"
    control = RunControl()
    stopped = launcher.launch(resolve_trial(study, trial), trial_root(study_dir, study, trial.id).parent, consumers=[StopAfter(control, 30)], control=control)
    assert stopped.state == "interrupted"
    ledger = Ledger(study_dir)
    try:
        ledger.record(trial.id, "interrupted", run_dir=str(stopped.run_dir.relative_to(study_dir)))
        assert launcher.resume(stopped.run_dir).state == "finished"  # by hand
        reconcile(study, study_dir, ledger, study.config.analysis.target)
        assert ledger.state(trial.id) == "finished"
        assert resumable_run_dir(study_dir, ledger.latest[trial.id]) is None
        assert (study_dir / CHECKPOINTS_DIR / f"{trial.id}.json").is_file()
    finally:
        ledger.close()
