"""A scenario kind is one declaration: a kind defined here, outside the package, and registered is
listed, validated, estimated, run headless and presented by the same commands as the built-in
kinds, with no other edit. And every registered kind declares all its parts."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field
from typer.testing import CliRunner

from plastilab.analysis.variant_comparison import chance_classes
from plastilab.cli import app
from plastilab.core.errors import ScenarioError
from plastilab.core.events import Scalars, TaskBoundary
from plastilab.core.kind import ScenarioKind, SmokeRun
from plastilab.core.memory_estimate import FLOAT, Part, estimate, total
from plastilab.core.presentation import Cell, Column, Headline, Presentation, SummaryTable, presentation_for
from plastilab.core.registry import SCENARIO_KINDS, register_kind
from plastilab.core.scenario_file import load_scenario
from plastilab.core.schema import ScenarioConfig, Strict
from plastilab.core.smoke import smoke_scenario
from plastilab.rundir.reader import RunFolder
from plastilab.runtime.launcher import launch

from paths import REPO

BUILTIN = dict(SCENARIO_KINDS)  # the kinds under plastilab/scenarios/, before this module adds one


# -- the kind: a loss that decays at each series' own rate, halving its rate at a task change --
class DecayTraining(Strict):
    steps: int = Field(default=40, ge=1)
    log_every: int = Field(default=10, ge=1)
    switch_every: int = Field(default=20, ge=0)
    width: int = Field(default=64, ge=1)  # what the memory estimate counts


class DecayConfig(ScenarioConfig):
    kind: Literal["decay"]
    training: DecayTraining = Field(default_factory=DecayTraining)
    rates: dict[str, float] = Field(default_factory=lambda: {"fast": 0.2, "slow": 0.05}, min_length=1)

    main_parameters = ("training.steps", "rates")

    def series(self) -> list[str]:
        return self.seeded(list(self.rates))

    def total_steps(self) -> int:
        return self.training.steps


def run_decay(config: DecayConfig, ctx: Any):
    """Events as any runner yields them: scalars every log_every steps, a boundary at each switch;
    its return value joins summary.json (the presenter's table reads it)."""
    training = config.training
    for step in range(1, training.steps + 1):
        tasks_done = step // training.switch_every if training.switch_every else 0
        if training.switch_every and step % training.switch_every == 0 and step < training.steps:
            yield TaskBoundary(step=step, task=tasks_done)
        if step % training.log_every == 0 or step == training.steps:
            for name, rate in config.rates.items():
                loss = math.exp(-rate * step / 2**tasks_done)
                yield Scalars(step=step, series=name, values={"train/loss": loss, "decay/rate": rate}, wall_time=time.time())
    return {"slowest": min(config.rates, key=config.rates.get)}


class DecayPresentation(Presentation):
    def summary_tables(self, summary: dict[str, Any], scenario: dict[str, Any]) -> list[SummaryTable]:
        slowest = summary.get("scenario_summary", {}).get("slowest")
        if slowest is None:
            return []
        return [SummaryTable("decay: the slowest series", (Column("series", "left"),), ((Cell(str(slowest), "bad"),),))]


PRESENTATION = DecayPresentation(
    headlines=(Headline("train/loss", "decayed loss", "{:.4f}"), Headline("decay/rate", "rate", "{:.2f}")),
    main_curve="train/loss",
    dashboard_metric="train/loss",
    progress_tags=("train/loss",),
)


def decay_memory(config: DecayConfig) -> list[Part]:
    return [Part("training.width", "a width-square table a series", len(config.rates) * config.training.width**2 * FLOAT)]


DECAY = ScenarioKind(
    name="decay",
    schema=DecayConfig,
    runner=run_decay,
    presenter=PRESENTATION,
    memory=decay_memory,
    smoke=SmokeRun({"kind": "decay", "name": "decay-smoke"}, ("training.steps=20", "training.log_every=5")),
)

FILE = """kind = "decay"
name = "decay-demo"
description = "Two losses decaying at their own rates."
estimated_cpu_seconds = 2

[training]
steps = 40
"""


@pytest.fixture
def decay_kind():
    """The kind registered for one test, and forgotten after it (other tests list every kind)."""
    register_kind(DECAY)
    yield DECAY
    del SCENARIO_KINDS[DECAY.name]


@pytest.fixture
def decay_file(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = folder / "decay-demo.toml"
    path.write_text(FILE)
    return path


def test_it_is_listed_and_validated(decay_kind, decay_file):
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--scenarios", str(decay_file.parent)])
    assert listed.exit_code == 0, listed.output
    assert any(line.startswith("decay-demo.toml") and "Two losses decaying" in line for line in listed.output.splitlines())
    checked = runner.invoke(app, ["validate", str(decay_file)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.strip() == f"{decay_file}: ok (decay, 2 series, 40 steps)"


def test_a_bad_key_is_one_line_naming_the_file_the_key_and_the_fix(decay_kind, decay_file):
    decay_file.write_text(FILE.replace("steps = 40", "stepz = 40"))
    result = CliRunner().invoke(app, ["validate", str(decay_file)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(decay_file) in lines[0] and "training.stepz: unknown key" in lines[0]
    assert "allowed here:" in lines[0] and "steps" in lines[0].split("allowed here:")[1]
    decay_file.write_text(FILE.replace("steps = 40", "steps = 0"))
    with pytest.raises(ScenarioError, match=r"training\.steps: found 0"):
        load_scenario(decay_file)


def test_its_memory_estimate_is_its_own_terms(decay_kind, decay_file):
    config = load_scenario(decay_file).config
    assert estimate(config) == [Part("training.width", "a width-square table a series", 2 * 64 * 64 * FLOAT)]
    assert total(estimate(config)) > 0
    decay_file.write_text(FILE.replace("steps = 40", "steps = 40\nwidth = 100000000"))
    refused = CliRunner().invoke(app, ["validate", str(decay_file)])  # a run that cannot fit: refused before it starts
    assert refused.exit_code == 2
    assert len(refused.output.strip().splitlines()) == 1 and "training.width" in refused.output, refused.output


def test_it_runs_headless_and_is_presented(decay_kind, decay_file, tmp_path):
    runner = CliRunner()
    ran = runner.invoke(app, ["run", str(decay_file), "--out", str(tmp_path / "runs"), "--quiet"])
    assert ran.exit_code == 0, ran.output
    run_dir = Path(ran.output.strip().splitlines()[-1])  # --quiet prints the run folder alone
    run = RunFolder.open(run_dir)
    assert run.meta["kind"] == "decay" and run.meta["series"] == ["fast", "slow"]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    losses = {(r["series"], r["step"]): r["value"] for r in rows if r["tag"] == "train/loss"}
    assert losses[("fast", 10)] == pytest.approx(math.exp(-0.2 * 10))
    assert losses[("slow", 40)] == pytest.approx(math.exp(-0.05 * 40 / 4))  # after two switches: a quarter of the rate
    reported = runner.invoke(app, ["report", str(run_dir)])
    assert reported.exit_code == 0, reported.output
    text = reported.output
    assert "decayed loss" in text and "rate" in text  # the headline columns the presenter declares
    assert "train/loss by step" in text  # the chart of its main curve
    squeezed = "".join(text.split())  # a table's title wraps to the table's width
    assert "decay:theslowestseries" in squeezed and "slow" in text  # its own summary table
    assert presentation_for("decay") is PRESENTATION


def test_its_smoke_run_runs(decay_kind, tmp_path):
    launched = launch(smoke_scenario(decay_kind, ["device=cpu"]), tmp_path)
    assert launched.state == "finished"
    summary = json.loads((launched.run_dir / "summary.json").read_text())
    assert set(summary["series"]) == {"fast", "slow"}


def test_a_second_kind_under_a_taken_name_is_refused(decay_kind):
    with pytest.raises(ValueError, match="'decay' is already registered"):
        register_kind(ScenarioKind("decay", DecayConfig, run_decay, PRESENTATION, lambda c: [], DECAY.smoke))
    assert register_kind(DECAY) is DECAY  # the same declaration twice is harmless


def test_a_kind_declares_its_presenter_memory_estimate_and_smoke_run():
    with pytest.raises(TypeError, match="memory"):
        ScenarioKind("partial", DecayConfig, run_decay, PRESENTATION)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", sorted(SCENARIO_KINDS))
def test_every_registered_kind_declares_all_its_parts(name):
    kind = SCENARIO_KINDS[name]
    schema = kind.load_schema()
    assert issubclass(schema, ScenarioConfig), f"{name}: its schema is not a ScenarioConfig"
    assert callable(kind.load_runner()), f"{name}: no runner"
    assert isinstance(kind.load_presenter(), Presentation), f"{name}: its presenter is not a Presentation"
    smoke = smoke_scenario(kind, ["device=cpu"])  # a smoke run that validates
    assert smoke.config.kind == name
    parts = estimate(smoke.config)
    assert parts and total(parts) > 0, f"{name}: its memory estimate counts nothing"
    assert all(isinstance(p, Part) and p.bytes >= 0 for p in parts), f"{name}: a memory term is not a Part"
    if kind.timing is not None:
        assert smoke_scenario(kind, ["device=cpu"], timing=True).config.kind == name


def test_finding_validating_and_estimating_every_kind_imports_no_torch():
    """The registry finds the kinds by name, and each names its heavy parts as strings: listing,
    validating and estimating every kind's smoke run stay instant (no torch)."""
    code = (
        "import sys\n"
        "from plastilab.core.memory_estimate import estimate\n"
        "from plastilab.core.registry import SCENARIO_KINDS\n"
        "from plastilab.core.smoke import smoke_scenario\n"
        "for kind in SCENARIO_KINDS.values():\n"
        "    assert estimate(smoke_scenario(kind).config), kind.name\n"
        "print(sorted(SCENARIO_KINDS), 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{sorted(BUILTIN)} False"


def test_the_chance_line_comes_from_what_the_kind_declares():
    assert chance_classes({"kind": "adam_instability", "training": {"n_classes": 10}}) == 10
    assert chance_classes({"kind": "interventions", "task": {"targets": "labels", "n_classes": 4}}) == 4
    assert chance_classes({"kind": "interventions", "task": {"targets": "regression", "n_classes": 4}}) is None
    assert chance_classes({"kind": "block_mdp"}) is None and chance_classes({"kind": "from_the_future"}) is None
