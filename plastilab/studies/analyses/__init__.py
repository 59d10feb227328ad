"""Study analyses: ``analysis.kind`` of a study file -> its ``StudyAnalysis``, imported lazily.

An analysis declares everything about itself in one module of this package (what the study file
must name for it, what it aggregates into the study folder, what the study view charts and what
``plastilab report`` prints); the faces ask ``analysis_for(kind)`` and never name a kind. A new
analysis is one module and one entry here (or ``register`` from outside the package).

This module imports nothing but the standard library, so the study file's schema can list the
kinds without loading any analysis.
"""

from __future__ import annotations

import importlib
from typing import Any

# "module:NAME" of each analysis (a ``base.StudyAnalysis``), or the analysis itself (one
# registered from outside the package). Typed loosely: naming the class here would import it,
# and through it the study file that asks this registry for the kinds.
STUDY_ANALYSES: dict[str, Any] = {
    "falsification": "plastilab.studies.analyses.falsification:ANALYSIS",
    "scaling": "plastilab.studies.analyses.scaling:ANALYSIS",
    "axes": "plastilab.studies.analyses.axes:ANALYSIS",
}
DEFAULT_KIND = "axes"


def analysis_kinds() -> list[str]:
    return list(STUDY_ANALYSES)


def register(analysis: Any) -> None:
    """Add an analysis defined elsewhere (a plug-in, a test) under its own ``kind``."""
    STUDY_ANALYSES[analysis.kind] = analysis


def analysis_for(kind: str | None) -> Any:
    """The analysis of that kind; the default one (per axis value only) for a kind this version
    does not know, e.g. a summary.json written by a newer one."""
    entry = STUDY_ANALYSES.get(kind or "", STUDY_ANALYSES[DEFAULT_KIND])
    if isinstance(entry, str):
        module, _, name = entry.partition(":")
        entry = getattr(importlib.import_module(module), name)
    return entry
