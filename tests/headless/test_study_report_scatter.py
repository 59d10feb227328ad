"""`plastilab report STUDY_DIR --scatter STAT|all --colour-by AXIS`: a terminal scatter per
statistic, its r and n the aggregate's; unknown names are one line listing the valid ones."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from plastilab.cli import app as cli_app
from tui.conftest import RECORDED
from tui.study_folders import SyntheticStudy


@pytest.fixture
def finished_study(tmp_path):
    study = SyntheticStudy(tmp_path / "runs")
    for trial in study.study.trials:
        study.finish(trial.id)
    study.close()
    return study.dir


def report(*args: str):
    return CliRunner().invoke(cli_app, ["report", *args])


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_scatter_all_draws_one_scatter_per_statistic_with_the_aggregates_r_and_n(finished_study):
    result = report(str(finished_study), "--scatter", "all")
    assert result.exit_code == 0, result.output
    correlations = json.loads((finished_study / "summary.json").read_text())["correlations"]
    titles = re.findall(r"probe/plasticity_loss vs (\S+) \(r = (\S+), n = (\d+)\)", result.output)
    assert [t[0] for t in titles] == [c["statistic"] for c in correlations]  # sorted by |r|
    for (_, r, n), row in zip(titles, correlations):
        assert r == f"{row['pearson']:.2g}" and int(n) == row["n"] == 12  # 6 trials x 2 checkpoints after step 0
    assert "agents.mlp.optimizer=adam" in result.output and "agents.mlp.optimizer=rmsprop" in result.output  # the study's color_by


def test_scatter_of_one_statistic_coloured_by_seed(finished_study):
    result = report(str(finished_study), "--scatter", "weights/norm", "--color-by", "seed")
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"probe/plasticity_loss vs ", result.output)) == 1
    assert all(f"seed={s}" in result.output for s in (0, 1, 2))


def test_an_unknown_statistic_is_one_line_listing_the_valid_ones(finished_study):
    line = one_line_error(report(str(finished_study), "--scatter", "weights/nrom"))
    assert line.startswith("plastilab: --scatter: no statistic 'weights/nrom'; choose one of: ")
    assert all(name in line for name in ("weights/norm", "units/dead_fraction", "rank/effective"))


def test_an_unknown_colour_axis_is_one_line_listing_the_valid_ones(finished_study):
    line = one_line_error(report(str(finished_study), "--scatter", "all", "--colour-by", "rewards"))
    assert line == "plastilab: --colour-by: no axis 'rewards'; choose one of: agents.mlp.optimizer, seed, series"


def test_the_scatter_options_are_for_study_folders_only():
    line = one_line_error(report(str(RECORDED), "--scatter", "all"))
    assert "only for a study folder" in line


def test_a_study_without_correlations_says_so_in_one_line(tmp_path):
    study = SyntheticStudy(tmp_path / "runs", name="widths", seeds=1, analysis="scaling")
    study.finish("t000")
    study.close()
    line = one_line_error(report(str(study.dir), "--scatter", "all"))
    assert "has no correlations to draw" in line
