"""A write that fails ends the run truthfully (issue 11, finding 1): a full disk gives one line
naming the path, status.json ``failed``, no temporary files, and what was flushed before kept.

The disk is a small tmpfs the test mounts, which needs root; elsewhere the tests are skipped
and say why.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hostile_helpers import run_cli
from plastilab.core.events import RunFailed, RunStarted, Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.reader import RunFolder, read_jsonl
from plastilab.rundir.writer import RunFolderWriter, WriteFailed

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "adam-tiny.toml"


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs at tmp_path/disk, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the disk-full tests run where that is allowed")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or mounted.returncode}); the disk-full tests need one")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_ends_the_writer_truthfully(small_disk):
    run = small_disk / "run"
    writer = RunFolderWriter(run, load_scenario(TINY), command=["test"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", ("a",), 10**9, "cpu", 0, str(run)))
    step = 0
    with pytest.raises(WriteFailed) as failure:
        for step in range(1, 10**6):  # ~100 bytes a line: 64 KiB fill long before the end
            writer.handle(Scalars(step, "a", {"train/loss": 1.0 / step, "train/accuracy": 0.5}, float(step)))
    message = str(failure.value)
    assert "metrics.jsonl" in message and "No space left" in message and "\n" not in message
    writer.handle(Scalars(step + 1, "a", {"train/loss": 0.1}, 0.0))  # after a failure: ignored, no raise
    writer.handle(RunFailed(step, message))
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and status["error"] == message
    assert not list(run.rglob("*.tmp"))
    kept = read_jsonl(run / "metrics.jsonl")
    assert len(kept) > 100 and [r["step"] for r in kept] == sorted(r["step"] for r in kept)


def test_a_full_disk_is_one_line_from_the_cli(capsys, small_disk):
    code, _, err = run_cli(capsys, "run", str(TINY), "--out", str(small_disk), "--quiet", "--device", "cpu")
    line = [l for l in err.splitlines() if l.startswith("plastilab: ")]
    assert code == 1 and len(line) == 1 and "No space left" in line[0] and "Traceback" not in err
    run = next(small_disk.rglob("status.json")).parent
    assert RunFolder.open(run).state == "failed"
    assert not list(small_disk.rglob("*.tmp"))
