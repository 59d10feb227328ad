"""What a study folder says now (studies/snapshot.py, studies/listing.py): a trial the ledger
calls running whose writer is dead is shown abandoned, and the ETA paces the work left by the
trials that finished."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from plastilab.studies.listing import find_study_dirs, study_state
from plastilab.studies.snapshot import StudyReader, TrialRow, eta_seconds
from tui.study_folders import SyntheticStudy


@pytest.fixture
def study(tmp_path):
    synthetic = SyntheticStudy(tmp_path / "runs")
    synthetic.finish("t000", seconds=10.0)
    synthetic.finish("t001", seconds=30.0)
    synthetic.start("t002", steps=150)
    yield synthetic
    synthetic.close()


def test_a_running_trial_whose_writer_died_is_abandoned(study):
    reader = StudyReader(study.dir)
    assert {r.id: r.state for r in reader.read().trials}["t002"] == "running"
    assert study_state(study.dir)[0] == "running"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    status_path = study.writers["t002"][1] / "status.json"
    status = json.loads(status_path.read_text())
    status.update(pid=int(dead), pid_start=None)
    status_path.write_text(json.dumps(status))
    snapshot = reader.read()
    assert {r.id: r.state for r in snapshot.trials}["t002"] == "abandoned"
    assert snapshot.counts == {"finished": 2, "abandoned": 1, "pending": 3}
    assert study_state(study.dir) == ("interrupted", {"finished": 2, "abandoned": 1, "pending": 3})
    assert find_study_dirs(study.dir.parent.parent) == [study.dir]


def test_the_eta_is_the_work_left_at_the_median_trials_pace_over_the_running_ones():
    def row(trial_id, state, step=None, total=300, seconds=None):
        return TrialRow(trial_id, "", "", state, step, total, seconds, None)

    ledger = {"t0": {"seconds": 10.0}, "t1": {"seconds": 30.0}, "t2": {"seconds": 20.0}}
    rows = [row("t0", "finished"), row("t1", "finished"), row("t2", "finished"), row("t3", "running", 150), row("t4", "running", 0), row("t5", "pending")]
    # left: 1 pending + 0.5 + 1.0 of the running ones = 2.5 trials x 20 s (median), over 2 at once
    assert eta_seconds(rows, ledger) == pytest.approx(25.0)
    # nothing finished yet: the running trials' own pace (30 s for half of one: 60 s a trial)
    early = [row("t3", "running", 150, seconds=30.0), row("t5", "pending")]
    assert eta_seconds(early, {}) == pytest.approx((1 + 0.5) * 60.0)
    assert eta_seconds([row("t5", "finished")], {}) == 0.0
