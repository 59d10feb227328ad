"""The lab's ETA counts the time instruments take at their checkpoints (issue 15)."""

from plastilab.core.events import RunStarted, Scalars
from plastilab.runtime.run_state import RunState


def test_eta_uses_the_whole_runs_rate_so_a_long_probe_counts():
    state = RunState(live=True)
    state.apply(RunStarted("s", "k", ("a",), 400, "cpu", 0))
    # 10 steps a second, then a checkpoint whose instruments take 20 s, then 10 steps a second.
    for step in range(0, 101, 10):
        state.apply(Scalars(step, "a", {"train/loss": 1.0}, 1000.0 + step / 10))
    for step in range(110, 201, 10):
        state.apply(Scalars(step, "a", {"train/loss": 1.0}, 1020.0 + step / 10))
    # The last ten seconds trained at 10 steps/s, but 200 steps took 40 s all told: 40 s to go.
    assert abs(state.steps_per_second() - 10.0) < 1e-6
    assert abs(state.eta_seconds() - 40.0) < 1e-6
