"""Scenario kinds by name, found rather than listed.

Every package under ``plastilab/scenarios/`` whose ``__init__`` declares ``KIND`` (a
``core.kind.ScenarioKind``) is a built-in kind; ``register_kind`` adds one defined elsewhere. A
kind's ``__init__`` names its parts as strings, so finding the kinds imports neither torch nor
pydantic, and ``list`` and ``validate`` answer at once.
"""

from __future__ import annotations

import importlib
import pkgutil

from plastilab.core.kind import ScenarioKind

# Named, not imported at the top: the scenarios sit above the core, which finds them by name.
BUILTIN_KINDS_PACKAGE = "plastilab.scenarios"


def _builtin_kinds() -> dict[str, ScenarioKind]:
    package = importlib.import_module(BUILTIN_KINDS_PACKAGE)
    kinds: dict[str, ScenarioKind] = {}
    for module in pkgutil.iter_modules(package.__path__, f"{BUILTIN_KINDS_PACKAGE}."):
        if not module.ispkg:
            continue  # a shared module (common.py), not a kind
        declared = getattr(importlib.import_module(module.name), "KIND", None)
        if isinstance(declared, ScenarioKind):
            kinds[declared.name] = declared
    return dict(sorted(kinds.items()))


SCENARIO_KINDS: dict[str, ScenarioKind] = _builtin_kinds()


def register_kind(kind: ScenarioKind) -> ScenarioKind:
    """Make ``kind`` known to every face (list, validate, run, report, studies) from now on.

    A second, different kind under a name already taken is refused: scenario files of the first
    would silently run as the second."""
    known = SCENARIO_KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"a scenario kind named {kind.name!r} is already registered ({known.schema})")
    SCENARIO_KINDS[kind.name] = kind
    return kind
