"""Generated hostile run and study folders (``hostile_folders``) driven through every face that
reads or writes them: report, export, load_run / load_study, the runs list behind watch, and
resume. Whatever the damage:

- one line on stderr when refused, never a traceback;
- no hang (the test's timeout bounds every example; FIFOs are in the mix);
- nothing outside the folder written, cut or removed (links point at a sentinel folder);
- a resume either refused (exit 2) or ending byte-identical to an uninterrupted run, wall
  times aside.

Example counts are small in ``make test``; ``make fuzz`` sets PLASTILAB_FUZZ_EXAMPLES higher.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

import plastilab
from hostile_folders import RUN_FILES, STUDY_FILES, Edit, damaged_copy, damages, snapshot_outside
from plastilab.cli import main
from plastilab.core.errors import PlastilabError
from plastilab.rundir import layout, listing_cache
from plastilab.studies.listing import list_runs
from resume_helpers import lines, without_times

EXAMPLES = int(os.environ.get("PLASTILAB_FUZZ_EXAMPLES", "12"))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="PLASTILAB_FUZZ_EXAMPLES" not in os.environ,  # the suite: the same examples each time
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
pytestmark = pytest.mark.timeout(max(600, 30 * EXAMPLES))


def cli(*args: str) -> tuple[int, str]:
    """(exit code, stderr) of ``plastilab ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.getsignal(signal.SIGINT)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
    finally:
        signal.signal(signal.SIGINT, previous)
    return code, err.getvalue()


def assert_no_traceback(code: int, err: str, what: str) -> None:
    assert "Traceback" not in err, f"{what}: {err[-2000:]}"
    if code == 2:
        assert len(err.strip().splitlines()) == 1, f"{what}: {err}"
    assert code in (0, 1, 2), f"{what}: exit {code}: {err[-500:]}"


RESUMED: list = []  # the examples that resumed (the property's exact branch ran)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    from resume_helpers import stopped_run as make

    return make(tmp_path_factory.mktemp("fuzz-stopped"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    from plastilab.core.scenario_file import load_scenario
    from plastilab.runtime import launcher
    from resume_helpers import SMALL, TINY

    return launcher.launch(load_scenario(TINY, list(SMALL)), tmp_path_factory.mktemp("fuzz-whole")).run_dir


@pytest.fixture(scope="module")
def pending_study(tmp_path_factory):
    from studies_helpers import stopped_study as _stopped_study

    return _stopped_study(tmp_path_factory.mktemp("fuzz-study"))


def _readers(folder: Path, outside: Path, kind: str) -> None:
    before = snapshot_outside(outside)
    code, err = cli("report", str(folder))
    assert_no_traceback(code, err, "report")
    with tempfile.TemporaryDirectory() as out:
        code, err = cli("export", str(folder), "--to", "csv", str(Path(out) / "x"))
        assert_no_traceback(code, err, "export")
    loader = plastilab.load_study if kind == "study" else plastilab.load_run
    with contextlib.suppress(PlastilabError):  # refused in one line is fine; anything else is not
        loader(folder)
    listing_cache.forget()
    list_runs(folder.parent)
    assert snapshot_outside(outside) == before, "a file outside the folder changed"


@PROFILE
@given(damage=damages(RUN_FILES))
def test_readers_survive_a_hostile_run_folder(stopped_run, tmp_path, damage):
    folder, outside = damaged_copy(stopped_run, tmp_path / "case", damage)
    _readers(folder, outside, "run")


@PROFILE
@given(damage=damages(STUDY_FILES))
def test_readers_survive_a_hostile_study_folder(pending_study, tmp_path, damage):
    folder, outside = damaged_copy(pending_study, tmp_path / "case", damage)
    _readers(folder, outside, "study")


@PROFILE
@given(damage=damages(RUN_FILES))
@example(damage=[Edit("remove", "summary.json"), Edit("truncate", "metrics.jsonl", at=0.99)])  # after the checkpoint: resumed, exact
@example(damage=[Edit("flip", "checkpoint.pt", at=0.6, bits=3)])  # refused
def test_resume_is_refused_or_exact_on_a_hostile_run_folder(stopped_run, uninterrupted, tmp_path, damage):
    folder, outside = damaged_copy(stopped_run, tmp_path / "case", damage)
    before = snapshot_outside(outside)
    code, err = cli("run", "--resume", str(folder), "--quiet")
    assert snapshot_outside(outside) == before, "a file outside the folder changed"
    assert "Traceback" not in err, err[-2000:]
    if code == 0:
        RESUMED.append(damage)
        for name in (layout.METRICS, layout.LOG, layout.ARRAYS):
            assert without_times(lines(folder / name)) == without_times(lines(uninterrupted / name)), (name, damage)
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1, (code, err, damage)


def test_the_generator_reached_the_exact_branch_of_resume():
    """The explicit examples above resume; a generator that only ever produced refusals would
    leave the byte-identical half of the property unchecked."""
    if not RESUMED:
        pytest.skip("runs after the resume property, in the same session")
    assert RESUMED
