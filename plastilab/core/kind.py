"""What a scenario kind declares about itself, in one place: its schema, runner, presenter,
memory estimate, a smoke run, and what a study may do with it.

A kind is a package whose ``__init__`` holds a ``KIND = ScenarioKind(...)``; the registry finds
the built-in ones under ``plastilab/scenarios/`` and takes others through ``register_kind``. The
heavy parts (the runner imports torch, the schema pydantic) are named as ``"module:attribute"``
strings and imported only when first asked for, so listing and validating stay instant; a kind
defined in one module may give the objects themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# "module:attribute", imported when first needed, or the object itself.
Spec = Any


@dataclass(frozen=True)
class SmokeRun:
    """A few seconds of the kind on one CPU thread, with an instrument due: the run every test of
    all kinds and the GPU bench's quick mode make of it. ``scenario`` is a file of the built-in
    scenarios folder, or the scenario's own keys (a kind defined outside the package)."""

    scenario: str | Mapping[str, Any]
    overrides: tuple[str, ...] = ()
    goal: str = ""  # a timing run's: the device's speed-up over the CPU the GPU bench aims for


@dataclass(frozen=True)
class ScenarioKind:
    name: str  # the ``kind`` key of its scenario files
    schema: Spec  # its ScenarioConfig subclass
    runner: Spec  # a function taking (config, context) and yielding events
    presenter: Spec  # its core.presentation.Presentation: what the faces show of a run
    memory: Spec  # a function config -> list[core.memory_estimate.Part]: what a run holds
    smoke: SmokeRun
    # The GPU bench's timing run (a fixed number of steps); None: the smoke run.
    timing: SmokeRun | None = None
    # A module whose why_not_packed / population_key / point / merge let a study run several
    # trials of this kind as one run (``studies.populations``); None: each trial runs alone.
    population: Spec | None = None
    # When the final loss is a cross-entropy over classes: their number for a run's resolved
    # scenario (chance is ln n, drawn on the variant comparison); None: not a classification.
    chance_classes: Callable[[Mapping[str, Any]], int | None] | None = None

    def load_schema(self):
        return _load(self.schema)

    def load_runner(self):
        return _load(self.runner)

    def load_presenter(self):
        return _load(self.presenter)

    def load_memory(self):
        return _load(self.memory)

    def load_population(self):
        if self.population is None:
            return None
        return importlib.import_module(self.population) if isinstance(self.population, str) else self.population


def kind_in_package(package: str, name: str, *, schema: str, runner: str, smoke: SmokeRun, **more: Any) -> ScenarioKind:
    """The kind whose parts sit in ``package`` as the built-in kinds keep them: ``schema.py``
    (the class named ``schema``), ``runner.py`` (the function named ``runner``), ``presenter.py``
    (``PRESENTATION``) and ``memory.py`` (``estimate``); ``more``: ScenarioKind's other fields."""
    return ScenarioKind(
        name=name,
        schema=f"{package}.schema:{schema}",
        runner=f"{package}.runner:{runner}",
        presenter=f"{package}.presenter:PRESENTATION",
        memory=f"{package}.memory:estimate",
        smoke=smoke,
        **more,
    )


def _load(spec: Spec):
    if not isinstance(spec, str):
        return spec
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)
