"""A kind's smoke run (or the GPU bench's timing run) as a scenario ready to launch: what the
tests of every kind and the GPU bench run, from what the kind declares."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from plastilab.core.catalog import builtin_scenario_dir
from plastilab.core.kind import ScenarioKind, SmokeRun
from plastilab.core.scenario_file import Scenario, apply_override, load_scenario, validate_scenario


def smoke_scenario(kind: ScenarioKind, extra: Iterable[str] = (), *, timing: bool = False) -> Scenario:
    """``kind``'s smoke run (``timing``: the bench's timing run, else the smoke run) with the
    ``extra`` overrides after its own (``device=cuda``)."""
    run = kind.timing if timing and kind.timing is not None else kind.smoke
    return load_smoke_run(run, extra, source=f"{kind.name} smoke run")


def load_smoke_run(run: SmokeRun, extra: Iterable[str] = (), *, source: str = "smoke run") -> Scenario:
    overrides = [*run.overrides, *extra]
    if isinstance(run.scenario, str):
        return load_scenario(builtin_scenario_dir() / run.scenario, overrides)
    raw = copy.deepcopy(dict(run.scenario))
    for text in overrides:
        apply_override(raw, text, source)
    return Scenario(None, validate_scenario(raw, source))
