"""Read a study file, expand it into trials, and resolve (and check) each trial's scenario.

Every failure is a one-line ``ScenarioError``: the study file, the trial (id and overrides), the
key and what is allowed, e.g.
``scenarios/s.toml: trial t003 (training.lr=-1, seed=2): training.lr: found -1; allowed: a number > 0``.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plastilab.core.scenario_toml import read_scenario_toml
from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import Scenario, apply_override, describe_validation_error, validate_scenario
from plastilab.core.value_text import show_value
from plastilab.studies.schema import StudyConfig
from plastilab.studies.study_checks import check_analysis, check_trial_count

STUDY_KIND = "study"


@dataclass(frozen=True)
class Trial:
    id: str  # t000, t001, ... in the order of the product (or of the explicit list)
    overrides: dict[str, Any]  # dotted path -> value, seed included
    scenario: dict[str, Any] = field(repr=False)  # the base with the overrides applied, as plain data

    def label(self) -> str:
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.overrides.items())


@dataclass(frozen=True)
class StudyPlan:
    """A study file read and expanded: its settings, its base scenario and its trials. (A finished
    study *folder* read back for the library is ``analysis.studies.Study``, ``plastilab.load_study``.)"""

    path: Path
    config: StudyConfig
    base: dict[str, Any]  # the base scenario's tables, overrides for every trial applied
    trials: list[Trial]

    @property
    def name(self) -> str:
        return self.config.name

    def resolved(self) -> dict[str, Any]:
        """The study as plain data with the base inlined: the study folder's own, self-contained copy."""
        data = self.config.model_dump(mode="json", exclude_none=True)
        data["base"] = copy.deepcopy(self.base)
        return data


def is_study_file(path: str | Path) -> bool:
    """True for a readable TOML file whose top-level ``kind`` is ``study``."""
    try:
        return read_scenario_toml(path).get("kind") == STUDY_KIND
    except ScenarioError:  # not a readable TOML file: the scenario path says why, in one line
        return False


def load_study_plan(path: str | Path, overrides: list[str] | None = None) -> StudyPlan:
    """Read ``path``; ``--set study.KEY=V`` changes the study, any other ``--set`` every trial's base."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such study file")
    raw = read_scenario_toml(path)  # regular file, bounded size and depth, one-line errors
    base_overrides = []
    for text in overrides or []:
        if text.strip().startswith("study."):
            apply_override(raw, text.strip()[len("study.") :], path)
        else:
            base_overrides.append(text)
    return study_plan_from_dict(raw, path, base_overrides)


def study_plan_from_dict(raw: dict[str, Any], path: Path, base_overrides: list[str] | None = None) -> StudyPlan:
    try:
        config = StudyConfig.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(describe_validation_error(exc, StudyConfig, str(path))) from None
    check_trial_count(config, path)  # before a list of trials is built
    check_analysis(config, path)
    base = read_base(config.base, path)
    for text in base_overrides or []:
        apply_override(base, text, path)
    if base.get("kind") == STUDY_KIND:
        raise ScenarioError(f"{path}: base: is itself a study; name a scenario file or give its tables inline")
    # The base alone must be a valid scenario, so its own mistakes are reported once, not per trial.
    validate_scenario(copy.deepcopy(base), f"{path}: base")
    trials = expand_trials(config, base, path)
    return StudyPlan(path, config, base, trials)


def read_base(base: str | dict[str, Any], study_path: Path) -> dict[str, Any]:
    if isinstance(base, dict):
        return copy.deepcopy(base)
    base_path = (study_path.parent / base) if not Path(base).is_absolute() else Path(base)
    if not base_path.is_file():
        raise ScenarioError(f"{study_path}: base: no such scenario file {base_path}; give a path relative to the study file")
    return read_scenario_toml(base_path)


def seed_list(config: StudyConfig, base: dict[str, Any]) -> list[int]:
    if isinstance(config.seeds, list):
        return list(config.seeds)
    first = base.get("seed", 0) if isinstance(base.get("seed", 0), int) else 0
    return list(range(first, first + config.seeds))


def expand_trials(config: StudyConfig, base: dict[str, Any], path: Path) -> list[Trial]:
    if config.trials is not None:
        points = [dict(t) for t in config.trials]
    else:
        paths = list(config.axes)
        points = [dict(zip(paths, combo)) for combo in itertools.product(*(config.axes[p] for p in paths))]
    seeds = seed_list(config, base)
    trials = []
    for point in points:
        for seed in seeds:
            overrides = {**point, "seed": seed}
            trial_id = f"t{len(trials):03d}"
            try:
                scenario = trial_scenario(base, overrides, trial_id, config.name)
            except ScenarioError as exc:
                raise ScenarioError(f"{path}: {exc}") from None
            trials.append(Trial(trial_id, overrides, scenario))
    return trials


def trial_scenario(base: dict[str, Any], overrides: dict[str, Any], trial_id: str, study_name: str) -> dict[str, Any]:
    raw = copy.deepcopy(base)
    for key, value in overrides.items():
        set_path(raw, key, copy.deepcopy(value))
    # Each trial's run folder is named after the study and the trial, e.g. scaling-quick.t004.
    raw["name"] = f"{study_name}.{trial_id}"
    return raw


def set_path(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(f"axis {key}: {part} is a {type(child).__name__}, not a table")
        node = child
    node[parts[-1]] = value


def trial_source(study: StudyPlan, trial: Trial) -> str:
    return f"{study.path}: trial {trial.id} ({trial.label()})"


def resolve_trial(study: StudyPlan, trial: Trial) -> Scenario:
    """The trial's validated scenario; a one-line error naming the study file and the trial."""
    return Scenario(None, validate_scenario(copy.deepcopy(trial.scenario), trial_source(study, trial)))


def check_study(study: StudyPlan) -> list[Scenario]:
    """Validate every trial up front (schema only; no torch)."""
    return [resolve_trial(study, trial) for trial in study.trials]
