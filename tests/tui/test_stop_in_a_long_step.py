"""Stopping a run that is deep in a long computation (no events for a while) still ends it as
interrupted, with its files closed, rather than killed and failed."""

import json
import time
from pathlib import Path

import pytest

from plastilab.core.events import RunInterrupted
from plastilab.runtime.live_source import LiveSource
from plastilab.runtime.training_child import LaunchSpec
from plastilab.runtime.training_process import TrainingProcess

REPO = Path(__file__).resolve().parents[2]

# The probe baseline at step 0 trains for a long time before the first event.
LONG_FIRST_STEP = ("instruments.probe={every = 1000, probe_steps = 1000000, n_targets = 1, n_examples = 32}",)


# Generous: a spawned child imports torch before its first event, which takes a minute or more
# when other processes keep the cores busy. Each wait ends as soon as its condition holds.
START_TIMEOUT_S = 180
END_TIMEOUT_S = 120


@pytest.mark.timeout(600)
def test_stop_during_a_long_computation_ends_interrupted(tmp_path):
    spec = LaunchSpec(str(REPO / "scenarios" / "adam-tiny.toml"), LONG_FIRST_STEP, "cpu", str(tmp_path), threads=1)
    process = TrainingProcess(spec)
    process.start()
    source = LiveSource(process)
    try:
        events = []
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.run_dir is None and time.monotonic() < deadline:
            events += source.poll(0.2)
        assert process.run_dir is not None, "the run never started"
        # The child is loading its images or already inside the baseline probe: either way no
        # event comes for a long time, so the stop flag alone cannot end the run and the
        # terminate a second later must. Stop, then terminate after that second.
        process.shutdown(timeout=1.0, drain=False)
        deadline = time.monotonic() + END_TIMEOUT_S
        while not source.done and time.monotonic() < deadline:
            events += source.poll(0.2)
    finally:
        process.shutdown(timeout=1.0)
    assert not process.process.is_alive()
    assert any(isinstance(e, RunInterrupted) for e in events)
    status = json.loads((Path(process.run_dir) / "status.json").read_text())
    assert status["state"] == "interrupted"
    # The driver ended it (files closed, summary written), not the app's after-the-fact note.
    assert "error" not in status
    assert json.loads((Path(process.run_dir) / "summary.json").read_text())["state"] == "interrupted"
