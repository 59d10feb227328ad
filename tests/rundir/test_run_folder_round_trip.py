"""What the run-folder writer writes, the reader gives back: the same scalar and task-boundary
events, field by field, in order; damaged lines are skipped, not fatal."""

from __future__ import annotations

from plastilab.core.events import RunFinished, RunStarted, Scalars, TaskBoundary
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.reader import RunFolder, records_to_events
from plastilab.rundir.writer import RunFolderWriter

from paths import SCENARIOS

WRITTEN = [
    TaskBoundary(0, 0, series="a"),
    Scalars(10, "a", {"train/loss": 0.5, "units/dead_fraction": 0.25}, 1010.0),
    Scalars(10, "b", {"train/loss": 1.5}, 1011.0),
    TaskBoundary(20, 1, series="a"),
    Scalars(20, "a", {"train/loss": 0.75}, 1020.0),
]


def test_scalars_and_task_boundaries_come_back_as_written(tmp_path):
    run_dir = tmp_path / "run"
    writer = RunFolderWriter(run_dir, load_scenario(SCENARIOS / "adam-tiny.toml"), command=["test"])
    writer.handle(RunStarted("t", "adam_instability", ("a", "b"), 20, "cpu", 0, str(run_dir)))
    for event in WRITTEN:
        writer.handle(event)
    writer.handle(RunFinished(20))
    writer.close()
    back = [e for e in RunFolder.open(run_dir).events() if isinstance(e, (Scalars, TaskBoundary))]
    assert back == WRITTEN


def test_records_to_events_groups_by_step_and_series_and_skips_damaged_lines():
    records = [
        {"step": 5, "series": "a", "tag": "task/index", "value": 2},
        "not a record",
        {"step": 5, "series": "a", "value": 1.0},  # no tag: damaged
        {"step": 6, "series": "a", "tag": "train/loss", "value": 1.0, "wall_time": 3.0},
        {"step": 6, "series": "a", "tag": "train/acc", "value": 0.5, "wall_time": 3.0},
        {"step": 6, "series": "b", "tag": "train/loss", "value": 2.0},
        {"step": 7, "series": "b", "tag": "task/index", "value": 3},
    ]
    assert records_to_events(records) == [
        TaskBoundary(step=5, task=2, series="a"),
        Scalars(6, "a", {"train/loss": 1.0, "train/acc": 0.5}, 3.0),
        Scalars(6, "b", {"train/loss": 2.0}, 0.0),
        TaskBoundary(step=7, task=3, series="b"),
    ]
