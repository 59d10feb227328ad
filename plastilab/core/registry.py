"""Scenario kinds: name -> (schema, runner), imported lazily.

Schemas import pydantic only, so ``list`` and ``validate`` never pay for importing torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ScenarioKind:
    schema: str  # "module:Class" of the ScenarioConfig subclass
    runner: str  # "module:function" taking (config, context) and yielding events

    def load_schema(self):
        return _load(self.schema)

    def load_runner(self):
        return _load(self.runner)


def _load(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


SCENARIO_KINDS: dict[str, ScenarioKind] = {
    "adam_instability": ScenarioKind(
        "plastilab.scenarios.adam_instability.schema:AdamInstabilityConfig",
        "plastilab.scenarios.adam_instability.runner:run_adam_instability",
    ),
    "interventions": ScenarioKind(
        "plastilab.scenarios.interventions.schema:InterventionsConfig",
        "plastilab.scenarios.interventions.runner:run_interventions",
    ),
    "block_mdp": ScenarioKind(
        "plastilab.scenarios.block_mdp.schema:BlockMDPConfig",
        "plastilab.scenarios.block_mdp.runner:run_block_mdp",
    ),
}
