"""Study folders for the study view's tests, written by the code that writes real ones: the study
file through ``load_study_plan`` and ``new_study_dir``, the ledger through ``Ledger``, each trial's run
folder through ``RunFolderWriter`` and its probe-step file through ``write_probe_steps``. Only the
numbers are made up (a fixed random generator), so no training runs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from plastilab.core.events import RunFinished, RunStarted, Scalars
from plastilab.rundir.layout import new_run_dir
from plastilab.rundir.writer import RunFolderWriter
from plastilab.studies import folder
from plastilab.studies.probe_steps import write_probe_steps
from plastilab.studies.ledger import Ledger
from plastilab.studies.study_file import load_study_plan, resolve_trial

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "scenarios" / "block-mdp-tiny.toml"
CHECKPOINTS = (0, 150, 300)
STATISTICS = ("weights/norm", "units/dead_fraction", "rank/effective")


def study_file(where: Path, name: str = "synthetic", seeds: int = 3, analysis: str = "falsification") -> Path:
    path = where / f"{name}.toml"
    if analysis == "scaling":
        axes, x = '"agents.mlp.hidden" = [[16, 16], [32, 32], [64, 64]]', '\nx = "agents.mlp.hidden"'
    else:
        axes, x = '"agents.mlp.optimizer" = ["adam", "rmsprop"]', ""
    path.write_text(
        f'''kind = "study"
name = "{name}"
description = "A synthetic study for the lab's tests"
base = "{TINY}"
seeds = {seeds}

[axes]
{axes}

[analysis]
kind = "{analysis}"{x}
{'color_by = "agents.mlp.optimizer"' if analysis == "falsification" else ""}
''',
        encoding="utf-8",
    )
    return path


class SyntheticStudy:
    """A study folder whose trials the test moves from state to state."""

    def __init__(self, runs_root: Path, *, name: str = "synthetic", seeds: int = 3, analysis: str = "falsification", stamp: str | None = None) -> None:
        source = study_file(runs_root.parent, name, seeds, analysis)
        self.study = load_study_plan(source)
        self.dir = folder.new_study_dir(self.study, runs_root)
        if stamp is not None:  # a fixed folder name, for pictures of the screen
            fixed = self.dir.parent / stamp
            self.dir.rename(fixed)
            self.dir = fixed
        self.ledger = Ledger(self.dir)
        self.writers: dict[str, tuple[RunFolderWriter, Path]] = {}
        self.logged: set[tuple[str, int]] = set()
        self.rng = np.random.default_rng(0)
        for trial in self.study.trials:
            self.ledger.record(trial.id, "pending", overrides=trial.overrides)

    def trial(self, trial_id: str):
        return next(t for t in self.study.trials if t.id == trial_id)

    def start(self, trial_id: str, steps: int = 150) -> Path:
        """The trial runs: its run folder is open (this process is its writer) at ``steps``."""
        trial = self.trial(trial_id)
        run_dir = new_run_dir(f"{self.study.name}.{trial_id}", self.dir / folder.TRIALS_DIR)
        scenario = resolve_trial(self.study, trial)
        writer = RunFolderWriter(run_dir, scenario, command=["test"])
        writer.handle(RunStarted(scenario.config.name, "block_mdp", ("mlp",), scenario.config.total_steps(), "cpu", trial.overrides["seed"], str(run_dir)))
        self.ledger.record(trial_id, "running", started=time.time(), run_dir=None, error=None, ended=None)
        self.writers[trial_id] = (writer, run_dir)
        self._log_until(trial_id, steps)
        return run_dir

    def _log_until(self, trial_id: str, steps: int) -> None:
        writer, _ = self.writers[trial_id]
        index = int(trial_id[1:])
        for step in CHECKPOINTS:
            if step > steps or (trial_id, step) in self.logged:
                continue
            self.logged.add((trial_id, step))
            values = {"probe/plasticity_loss": 0.0 if step == 0 else float(0.1 * index + 0.05 * self.rng.standard_normal())}
            for k, tag in enumerate(STATISTICS):
                values[tag] = float(1.0 + 0.2 * k + step / 300 + (0.3 * index if k == 0 else 0) + 0.1 * self.rng.standard_normal())
            writer.handle(Scalars(step, "mlp", values, 1000.0 + step))
        writer.handle(Scalars(steps, "mlp", {"td/loss": float(0.5 + 0.01 * steps * self.rng.random())}, 1000.0 + steps))
        writer.last_step = steps
        writer._heartbeat()

    def finish(self, trial_id: str, seconds: float = 12.5) -> Path:
        """The trial ends finished, as the runner records it: probe steps first, then the ledger."""
        if trial_id not in self.writers:
            self.start(trial_id)
        self._log_until(trial_id, 300)
        writer, run_dir = self.writers.pop(trial_id)
        writer.handle(RunFinished(300))
        write_probe_steps(self.dir / folder.CHECKPOINTS_DIR / f"{trial_id}.json", trial_id, run_dir, self.study.config.analysis.target)
        self.ledger.record(trial_id, "finished", ended=time.time(), seconds=seconds, run_dir=str(run_dir.relative_to(self.dir)), error=None)
        return run_dir

    def fail(self, trial_id: str, error: str = "preflight: no such dataset") -> None:
        self.ledger.record(trial_id, "running", started=time.time(), run_dir=None, error=None, ended=None)
        self.ledger.record(trial_id, "failed", ended=time.time(), seconds=0.5, run_dir=None, error=error)

    def close(self) -> None:
        self.ledger.close()
