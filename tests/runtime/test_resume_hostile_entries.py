"""`--resume` on a run folder whose entries were swapped for something hostile: a damaged
checkpoint (bits flipped inside the zip), links pointing outside the folder, FIFOs and folders
where files belong, a checkpoint wrapper with the wrong payload. Each is refused in one line
before anything is cut back, and nothing outside the folder is ever written, cut or removed."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import torch

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.rundir import layout
from plastilab.runtime.checkpoint_save import CHECKPOINT
from plastilab.runtime.resume_checks import RESUME_LOCK
from resume_helpers import copy_of, snapshot

pytestmark = pytest.mark.timeout(240)  # a FIFO opened for reading would wait forever


def _resume(capsys, run_dir: Path) -> tuple[int, str]:
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    return code, err


def _flip_bits_in_a_tensor(path: Path) -> None:
    """Flip three bits in the bytes of the biggest tensor in the checkpoint's zip, in place,
    leaving the zip's structure (and the CRCs written beside the bytes) as it was."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    # The member's bytes start after its local header (30 bytes, the name, the extra field).
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for k in (1, 7, 13):
        data[start + info.file_size // 2 + k] ^= 1 << (k % 8)
    path.write_bytes(bytes(data))


def test_a_checkpoint_with_flipped_bits_inside_the_zip_is_refused(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    _flip_bits_in_a_tensor(run_dir / CHECKPOINT)
    before = snapshot(run_dir)
    code, err = _resume(capsys, run_dir)
    assert_one_line_error(code, err, str(run_dir / CHECKPOINT), "CRC")
    assert snapshot(run_dir) == before  # refused before anything was cut back


def test_a_checkpoint_wrapper_with_a_wrong_payload_is_one_line(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    payload = torch.load(run_dir / CHECKPOINT, weights_only=True)
    payload["runner"] = {"nothing": 1}
    torch.save(payload, run_dir / CHECKPOINT)
    code, _, err = run_cli(capsys, "run", "--resume", str(run_dir), "--quiet")
    assert code == 1 and "Traceback" not in err and "KeyError" not in err, err
    assert str(run_dir / CHECKPOINT) in err and "holds no" in err


@pytest.mark.parametrize("name", [layout.METRICS, layout.LOG, layout.ARRAYS, layout.STATUS, layout.SCENARIO])
def test_a_file_linked_outside_the_folder_is_refused_and_the_outside_untouched(capsys, stopped, tmp_path, name):
    run_dir = copy_of(stopped, tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_bytes((run_dir / name).read_bytes() + b"x" * 100_000)
    (run_dir / name).unlink()
    (run_dir / name).symlink_to(outside)
    kept = outside.read_bytes()
    code, err = _resume(capsys, run_dir)
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert outside.read_bytes() == kept


def test_a_linked_arrays_folder_never_has_an_outside_file_removed(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    # A line after the checkpoint names arrays/s/t/x.npz: a resume removes the files such lines
    # name (their steps are made again), and arrays/ is a link to a folder elsewhere.
    with open(run_dir / layout.ARRAYS, "a") as f:
        f.write(json.dumps({"step": 45, "series": "s", "tag": "t", "kind": "curve", "file": "arrays/s/t/x.npz"}) + "\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "s" / "t").mkdir(parents=True)
    (elsewhere / "s" / "t" / "x.npz").write_bytes(b"someone else's")
    (run_dir / layout.ARRAYS_DIR).symlink_to(elsewhere)
    files_before = sorted(p for p in elsewhere.rglob("*") if p.is_file())
    code, err = _resume(capsys, run_dir)
    assert_one_line_error(code, err, str(run_dir / layout.ARRAYS_DIR), "symbolic link")
    assert sorted(p for p in elsewhere.rglob("*") if p.is_file()) == files_before


def test_a_temporary_file_planted_as_a_link_is_never_written_through(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    outside = tmp_path / "victim.txt"
    outside.write_text("keep me")
    (run_dir / (layout.STATUS + ".tmp")).symlink_to(outside)
    (run_dir / (CHECKPOINT + ".tmp")).symlink_to(outside)
    code, err = _resume(capsys, run_dir)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert outside.read_text() == "keep me"


@pytest.mark.parametrize("name", [layout.LOG, layout.ARRAYS, layout.METRICS, RESUME_LOCK])
def test_a_fifo_in_place_of_a_file_is_refused_not_waited_on(capsys, stopped, tmp_path, name):
    run_dir = copy_of(stopped, tmp_path)
    (run_dir / name).unlink(missing_ok=True)
    os.mkfifo(run_dir / name)
    code, err = _resume(capsys, run_dir)
    assert_one_line_error(code, err, str(run_dir / name))


@pytest.mark.parametrize("make", ["folder", "fifo"])
def test_a_checkpoint_replaced_by_a_folder_or_fifo_is_named_so(capsys, stopped, tmp_path, make):
    run_dir = copy_of(stopped, tmp_path)
    (run_dir / CHECKPOINT).unlink()
    (run_dir / CHECKPOINT).mkdir() if make == "folder" else os.mkfifo(run_dir / CHECKPOINT)
    code, err = _resume(capsys, run_dir)
    assert_one_line_error(code, err, str(run_dir / CHECKPOINT), "a folder" if make == "folder" else "a pipe")
    assert "before its first checkpoint" not in err


def test_a_resuming_claim_that_is_a_folder_is_named_so(capsys, stopped, tmp_path):
    run_dir = copy_of(stopped, tmp_path)
    (run_dir / RESUME_LOCK).mkdir()
    code, err = _resume(capsys, run_dir)
    assert_one_line_error(code, err, str(run_dir / RESUME_LOCK), "a folder")
    assert "pid None" not in err
