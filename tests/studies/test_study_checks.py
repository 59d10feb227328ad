"""A study file's counts and analysis keys are checked before anything is built: a huge seed count
or axes product is one line at once (not a MemoryError a minute later), and analysis.x,
color_by and target must name what the study has."""

from __future__ import annotations

import time

import pytest

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.core.errors import ScenarioError
from plastilab.studies.study_file import load_study_plan
from studies_helpers import tiny_study


@pytest.mark.parametrize(
    ("seeds", "axes"),
    [(10**9, ""), (1, "\n".join(f'"training.x{i}" = [{", ".join(map(str, range(40)))}]' for i in range(6)))],
    ids=["seed-count", "axes-product"],
)
def test_a_huge_study_is_refused_at_once_with_its_count(capsys, tmp_path, seeds, axes):
    path, _ = tiny_study(tmp_path, seeds=seeds, axes=axes)
    started = time.monotonic()
    code, _, err = run_cli(capsys, "validate", str(path))
    assert_one_line_error(code, err, str(path), "trials", "at most 10,000")
    assert time.monotonic() - started < 60  # counted, not built (it once took 78 s to fail)


@pytest.mark.parametrize(
    ("analysis", "key"),
    [
        ('x = "no.such.axis"', "analysis.x"),
        ('color_by = "nope"', "analysis.color_by"),
        ('target = "not a tag"', "analysis.target"),
    ],
)
def test_an_analysis_key_naming_nothing_in_the_study_is_refused(tmp_path, analysis, key):
    path, _ = tiny_study(tmp_path, axes='"env.episode_length" = [50, 60]')
    path.write_text(path.read_text().replace("[analysis]", f"[analysis]\n{analysis}"))
    with pytest.raises(ScenarioError) as error:
        load_study_plan(path)
    message = str(error.value)
    assert str(path) in message and key in message
    assert ("probe tag" if key == "analysis.target" else "env.episode_length") in message  # what is allowed


def test_analysis_keys_naming_an_axis_are_accepted(tmp_path):
    path, _ = tiny_study(tmp_path, axes='"env.episode_length" = [50, 60]')
    path.write_text(path.read_text().replace("[analysis]", '[analysis]\nx = "env.episode_length"\ncolor_by = "env.episode_length"'))
    assert len(load_study_plan(path).trials) == 2
