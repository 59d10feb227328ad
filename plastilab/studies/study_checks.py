"""Checks on a study file that its schema alone cannot make: how many trials it expands to
(counted before any is built: a seed count of 10**9 once ran 78 s into a ``MemoryError``), and
whether the analysis keys name what the study has (``analysis.x`` and ``color_by`` an axis,
``target`` a probe tag, and what the analysis itself asks for). Each failure is a one-line ``ScenarioError`` naming the file and key."""

from __future__ import annotations

import math
import re
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.studies.analyses import analysis_for
from plastilab.studies.schema import StudyConfig

# Far more trials than a study on one machine or a classroom cluster runs; a mistyped count
# (seeds = 1000000) is caught here, before a list of that many trials is built.
MAX_TRIALS = 10_000
_TAG = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


def trial_count(config: StudyConfig) -> tuple[int, int]:
    """(points, seeds): the study expands into their product of trials."""
    points = len(config.trials) if config.trials is not None else math.prod(len(v) for v in config.axes.values())
    seeds = len(config.seeds) if isinstance(config.seeds, list) else config.seeds
    return points, seeds


def check_trial_count(config: StudyConfig, path: Path) -> None:
    points, seeds = trial_count(config)
    total = points * seeds
    if total > MAX_TRIALS:
        raise ScenarioError(
            f"{path}: {total:,} trials ({points:,} axis points x {seeds:,} seeds); at most {MAX_TRIALS:,} a study: "
            f"use fewer seeds or axis values, or split it into several studies"
        )


def check_analysis(config: StudyConfig, path: Path) -> None:
    analysis = config.analysis
    axes = list(config.axes) if config.trials is None else sorted({k for t in config.trials for k in t})
    allowed = ", ".join(axes) if axes else "none (the study has no axes)"
    for key in ("x", "color_by"):
        value = getattr(analysis, key)
        if value is not None and value not in axes:
            raise ScenarioError(f"{path}: analysis.{key}: found {value!r}; allowed: one of the study's axes: {allowed}")
    analysis_for(analysis.kind).check(config, axes, path)  # what this analysis needs beyond that
    if not _TAG.match(analysis.target):
        raise ScenarioError(f"{path}: analysis.target: found {analysis.target!r}; allowed: a probe tag such as probe/plasticity_loss")
