"""Helpers shared by the interventions tests: a tiny grid written from a template, and a scenario
run to a folder as ``plastilab run`` does (driver and run-folder writer)."""

from __future__ import annotations

from plastilab.core.driver import drive
from plastilab.core.scenario_file import load_scenario
from plastilab.rundir import layout
from plastilab.rundir.writer import RunFolderWriter

TINY = """
kind = "interventions"
name = "interventions-tiny"
[data]
n_images = 32
[task]
targets = "{targets}"
n_iterations = 3
steps_per_iteration = 4
[training]
batch_size = 8
log_every = 2
[grid]
architectures = {architectures}
interventions = {interventions}
n_seeds = 2
[models.mlp]
hidden = [16, 16]
[models.cnn]
channels = [4, 4]
hidden = 8
[ranking]
window = 1
"""


def tiny(tmp_path, targets="labels", architectures='["mlp", "cnn"]', interventions='["none"]', extra=""):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(targets=targets, architectures=architectures, interventions=interventions) + extra)
    return load_scenario(path)


def run_to_folder(scenario, root):
    run_dir = layout.new_run_dir(scenario.name, root)
    end = drive(scenario, [RunFolderWriter(run_dir, scenario, command=["test"])], run_dir=str(run_dir))
    return run_dir, end
