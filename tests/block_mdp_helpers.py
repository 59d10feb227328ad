"""Helpers shared by the block-MDP tests: the tiny scenario run to a folder as ``plastilab run``
does (driver and run-folder writer), and a run's numbers in a comparable form."""

from __future__ import annotations

from plastilab.core.driver import drive
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.reader import read_jsonl
from plastilab.rundir.writer import RunFolderWriter

from paths import SCENARIOS

TINY = SCENARIOS / "block-mdp-tiny.toml"


def run_to_folder(overrides, root):
    scenario = load_scenario(TINY, overrides)
    run_dir = layout.new_run_dir(scenario.name, root)
    end = drive(scenario, [RunFolderWriter(run_dir, scenario, command=["test"])], run_dir=str(run_dir))
    return run_dir, end


def numbers(run_dir):
    return [(r["series"], r["step"], r["tag"], r["value"]) for r in read_jsonl(run_dir / layout.METRICS)]
