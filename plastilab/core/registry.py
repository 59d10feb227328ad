"""Scenario kinds: name -> (schema, runner, presenter), imported lazily.

Schemas import pydantic only, so ``list`` and ``validate`` never pay for importing torch;
presenters (what the faces show of a kind) import neither torch nor a face library.
A new kind is one folder under scenarios/ (schema.py, runner.py, presenter.py) and one entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ScenarioKind:
    schema: str  # "module:Class" of the ScenarioConfig subclass
    runner: str  # "module:function" taking (config, context) and yielding events
    presenter: str | None = None  # "module:NAME" of its core.presentation.Presentation
    # "module" whose why_not_packed / population_key / point / merge let a study run several
    # trials of this kind as one run (``studies.populations``); None: each trial runs alone.
    population: str | None = None

    def load_schema(self):
        return _load(self.schema)

    def load_runner(self):
        return _load(self.runner)

    def load_presenter(self):
        return _load(self.presenter)

    def load_population(self):
        return importlib.import_module(self.population) if self.population else None


def _load(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


SCENARIO_KINDS: dict[str, ScenarioKind] = {
    "adam_instability": ScenarioKind(
        "plastilab.scenarios.adam_instability.schema:AdamInstabilityConfig",
        "plastilab.scenarios.adam_instability.runner:run_adam_instability",
        "plastilab.scenarios.adam_instability.presenter:PRESENTATION",
    ),
    "interventions": ScenarioKind(
        "plastilab.scenarios.interventions.schema:InterventionsConfig",
        "plastilab.scenarios.interventions.runner:run_interventions",
        "plastilab.scenarios.interventions.presenter:PRESENTATION",
    ),
    "block_mdp": ScenarioKind(
        "plastilab.scenarios.block_mdp.schema:BlockMDPConfig",
        "plastilab.scenarios.block_mdp.runner:run_block_mdp",
        "plastilab.scenarios.block_mdp.presenter:PRESENTATION",
        population="plastilab.scenarios.block_mdp.population",
    ),
    "atari": ScenarioKind(
        "plastilab.scenarios.atari.schema:AtariConfig",
        "plastilab.scenarios.atari.runner:run_atari",
        "plastilab.scenarios.atari.presenter:PRESENTATION",
    ),
}
