"""A study analysis is one declaration: one defined here, outside the package, and registered is
accepted by the study file's schema, checked, aggregated into the study folder, read live by the
study view's reader and printed by ``plastilab report``, with no other edit."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from plastilab.core.errors import ScenarioError
from plastilab.headless.study_report import print_study_report
from plastilab.studies import folder
from plastilab.studies.aggregate import aggregate_study
from plastilab.studies.analyses import STUDY_ANALYSES, analysis_for, register
from plastilab.studies.analyses.base import AnalysisInputs, AnalysisSummary, AnalysisTable, ReportSection, StudyAnalysis
from plastilab.studies.ledger import Ledger
from plastilab.studies.snapshot import StudyReader
from plastilab.studies.study_file import load_study_plan

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "block-mdp-tiny.toml"
AXIS = "agents.mlp.optimizer"


class Spread(StudyAnalysis):
    """Each trial's plasticity loss at its last probe step, and the widest gap between trials."""

    kind = "spread"

    def check(self, config, axes, path) -> None:
        if not axes:
            raise ScenarioError(f"{path}: analysis.kind: a spread study needs an axis to spread over")

    def summarise(self, inputs: AnalysisInputs) -> AnalysisSummary:
        rows = [{"trial": e["trial"].id, "plasticity": e["final"].get(inputs.target)} for e in inputs.finals]
        values = [r["plasticity"] for r in rows]
        return AnalysisSummary(
            entries={"spread": {"gap": max(values) - min(values), "trials": rows}},
            tables=[AnalysisTable("spread.csv", ["trial", "plasticity"], rows)],
        )

    def live(self, inputs: AnalysisInputs) -> dict[str, Any]:
        return {"scaling": []}  # a field of the live aggregate this analysis fills (empty: none to chart)

    def report_sections(self, summary: dict[str, Any]) -> list[ReportSection]:
        spread = summary["spread"]
        return [ReportSection(f"Spread of {summary['target']} over trials: {spread['gap']:.3f}",
                              [f"  {r['trial']} {r['plasticity']:.3f}" for r in spread["trials"]])]


@pytest.fixture
def spread_registered(monkeypatch):
    monkeypatch.setitem(STUDY_ANALYSES, "spread", None)  # so the registry forgets it after the test
    register(Spread())


def study_file(where: Path, axes: str) -> Path:
    path = where / "spread.toml"
    path.write_text(f'kind = "study"\nname = "spread"\nbase = "{TINY}"\nseeds = 2\n{axes}\n[analysis]\nkind = "spread"\n', encoding="utf-8")
    return path


def finished_study(tmp_path: Path) -> Path:
    """A study folder whose four trials finished, their probe-step files written as the runner
    writes them (the numbers made up: plasticity grows with the trial's index)."""
    study = load_study_plan(study_file(tmp_path, f'[axes]\n"{AXIS}" = ["adam", "sgd"]'))
    study_dir = folder.new_study_dir(study, tmp_path / "runs")
    ledger = Ledger(study_dir)
    for index, trial in enumerate(study.trials):
        steps = [{"step": s, "values": {"probe/plasticity_loss": 0.1 * index * s / 300, "weights/norm": 1.0 + s / 300 + index}} for s in (150, 300)]
        data = {"trial": trial.id, "run_dir": "", "target": "probe/plasticity_loss",
                "series": {"mlp": {"checkpoints": steps, "final": {"td/loss": 0.5}}}}
        path = study_dir / folder.CHECKPOINTS_DIR / f"{trial.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
        ledger.record(trial.id, "finished", overrides=trial.overrides, run_dir=None, seconds=1.0, error=None)
    ledger.close()
    return study_dir


def test_an_unregistered_analysis_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(ScenarioError, match=r"analysis.kind: found 'spread'; allowed: 'falsification', 'scaling' or 'axes'"):
        load_study_plan(study_file(tmp_path, f'[axes]\n"{AXIS}" = ["adam", "sgd"]'))


def test_a_registered_analysis_checks_its_own_keys(tmp_path, spread_registered):
    assert isinstance(analysis_for("spread"), Spread)
    with pytest.raises(ScenarioError, match="a spread study needs an axis to spread over"):
        load_study_plan(study_file(tmp_path, ""))


def test_a_registered_analysis_is_aggregated_read_live_and_reported(tmp_path, spread_registered):
    study_dir = finished_study(tmp_path)
    summary = aggregate_study(study_dir)
    assert summary["analysis"] == "spread"
    assert summary["spread"]["gap"] == pytest.approx(0.3)  # trial 3's 0.3 against trial 0's 0.0
    assert "spread.csv" in summary["files"] and "correlations.csv" not in summary["files"]
    assert (study_dir / "spread.csv").read_text().splitlines()[0] == "trial,plasticity"
    assert json.loads((study_dir / folder.SUMMARY).read_text())["spread"]["trials"][3] == {"trial": "t003", "plasticity": pytest.approx(0.3)}

    snapshot = StudyReader(study_dir).read()
    assert snapshot.analysis == "spread" and snapshot.counts == {"finished": 4}
    assert len(snapshot.aggregate.rows) == 8 and snapshot.aggregate.correlations == []  # its live part: no correlations

    out = io.StringIO()
    print_study_report(study_dir, out=out)
    text = out.getvalue()
    assert "study spread (spread): 4 trials: 4 finished; 8 trial-checkpoints" in text
    assert "\nSpread of probe/plasticity_loss over trials: 0.300\n  t000 0.000\n" in text
    assert "Final values per axis value" in text  # what every study gets, still there
