"""The headless faces: plain progress lines, and the report rebuilt from a run folder."""

import io

from rich.console import Console

from plastilab.core.events import Log, RunStarted, Scalars
from plastilab.headless.progress import PlainProgress
from plastilab.headless.report import print_report
from plastilab.core.driver import drive
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir.writer import RunFolderWriter


def test_plain_progress_prints_periodic_lines():
    out = io.StringIO()
    progress = PlainProgress(stream=out, period=0.0)
    progress.handle(RunStarted("demo", "adam_instability", ("a", "b"), 100, "cpu", 0, "runs/x"))
    progress.handle(Scalars(50, "a", {"train/loss": 1.5}, 0.0))
    progress.handle(Scalars(50, "b", {"train/loss": 0.25}, 0.0))
    progress.handle(Log("warning", "careful"))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("demo: 2 series x 100 steps on cpu")
    assert "100/200 steps (50%)" in lines[-2] and "a=1.5000" in lines[-2] and "b=0.2500" in lines[-2]
    assert lines[-1] == "warning: careful"


def test_report_is_rebuilt_from_the_run_folder(tiny_scenario_path, tmp_path):
    scenario = load_scenario(tiny_scenario_path, ["training.n_tasks=2", "training.steps_per_task=30"])
    drive(scenario, [RunFolderWriter(tmp_path, scenario)], run_dir=str(tmp_path))
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    print_report(tmp_path, console)
    text = console.file.getvalue()
    assert "final loss of each task" in text and "(finished)" in text
    for name in ("adam-default", "adam-beta2-eps", "sgd", "task 1", "task 2", "dead"):
        assert name in text
    assert "train/loss by step" in text  # the plotext chart
    assert str(tmp_path) in text
