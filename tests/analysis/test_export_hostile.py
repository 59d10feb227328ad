"""plastilab export on hostile folders and destinations: a destination that cannot be created
(every format), a scenario.toml that is not UTF-8, a FIFO or a link to a file elsewhere, an
output path holding escape sequences. One line or a truthful export, never a traceback, a hang,
or a file from outside the run folder embedded in the events."""

from __future__ import annotations

import os
import shutil

import pytest
from analysis_folders import write_run
from typer.testing import CliRunner

from plastilab.cli import app
from plastilab.rundir import layout

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def made_run(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture
def run_dir(made_run, tmp_path):
    return shutil.copytree(made_run, tmp_path / "run")


def _export(*args: str):
    result = CliRunner().invoke(app, ["export", *map(str, args)])
    return result.exit_code, result.output


def _events_bytes(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("events.out.tfevents.*"))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "tensorboard"])
def test_a_destination_that_cannot_be_created_is_one_line(run_dir, tmp_path, fmt):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, output = _export(run_dir, "--to", fmt, blocker / "sub")
    assert code == 2 and "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert "cannot create the folder" in output


def test_a_scenario_toml_that_is_not_utf8_still_exports(run_dir, tmp_path):
    (run_dir / layout.SCENARIO).write_bytes((run_dir / layout.SCENARIO).read_bytes() + b'\n# caf\xe9 \xff\n')
    code, output = _export(run_dir, "--to", "tensorboard", tmp_path / "tb")
    assert code == 0 and "Traceback" not in output, output
    assert _events_bytes(tmp_path / "tb")


def test_a_fifo_scenario_toml_is_not_waited_on(run_dir, tmp_path):
    (run_dir / layout.SCENARIO).unlink()
    os.mkfifo(run_dir / layout.SCENARIO)
    code, output = _export(run_dir, "--to", "tensorboard", tmp_path / "tb")
    assert code == 0 and "Traceback" not in output, output


def test_a_scenario_toml_linked_elsewhere_is_never_embedded(run_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-1234 from outside the run folder")
    (run_dir / layout.SCENARIO).unlink()
    (run_dir / layout.SCENARIO).symlink_to(secret)
    code, output = _export(run_dir, "--to", "tensorboard", tmp_path / "tb")
    assert code == 0, output
    events = _events_bytes(tmp_path / "tb")
    assert events and b"TOP-SECRET-1234" not in events


def test_an_output_path_with_escape_sequences_is_printed_escaped(run_dir, tmp_path):
    out = tmp_path / "x\x1b[2Jy"
    code, output = _export(run_dir, "--to", "csv", out)
    assert code == 0, output
    assert "\x1b" not in output and "\\x1b" in output


def test_an_export_of_a_run_without_readable_metrics_says_its_tables_are_empty(run_dir, tmp_path):
    (run_dir / layout.METRICS).write_bytes(b"\xff\xfe not json\n")
    result = CliRunner().invoke(app, ["export", str(run_dir), "--to", "csv", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "no readable line in its metrics.jsonl; what is written is empty" in result.output
