"""The study file's schema: a base scenario, axes and seeds, and the analysis to run afterwards.

    kind = "study"
    name = "scaling-quick"
    base = "interventions-quick.toml"   # a scenario file, relative to this file ...
    # [base] ...                        # ... or the scenario's tables inline
    seeds = 3                           # a count (base seed, +1, ...) or a list of ints
    [axes]                              # dotted --set paths -> the values to try (product)
    "models.mlp.hidden" = [[32, 32], [64, 64]]
    # trials = [{ "training.lr" = 1e-3 }, ...]   # or an explicit list instead of [axes]
    [analysis]
    kind = "scaling"                    # "falsification" | "scaling" | "axes" (studies.analyses)
    x = "models.mlp.hidden"

Imports pydantic and the analyses' names only (no analysis), so ``plastilab validate`` answers at once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from plastilab.core.schema import Strict
from plastilab.studies.analyses import DEFAULT_KIND, analysis_kinds

PLASTICITY_TAG = "probe/plasticity_loss"


class AnalysisConfig(Strict):
    # One of ``studies.analyses``: falsification: every statistic at the probe steps against
    # plasticity loss (§3.2); scaling: plasticity and final task loss against the axis ``x``
    # (§5.1); axes: per axis value only.
    kind: str = DEFAULT_KIND
    x: str | None = None  # scaling: the axis on the x axis (a list value counts as its largest element)
    color_by: str | None = None  # falsification: the axis that colours the scatter
    target: str = PLASTICITY_TAG  # the plasticity tag; falls back to another probe tag if absent
    bootstrap: int = Field(default=1000, ge=100)  # resamples behind each 95% interval

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, kind: Any) -> str:
        kinds = analysis_kinds()
        if not isinstance(kind, str) or kind not in kinds:  # worded as pydantic words a Literal's choices
            raise ValueError(", ".join(repr(k) for k in kinds[:-1]) + f" or {kinds[-1]!r}")
        return kind


class StudyConfig(Strict):
    kind: Literal["study"]
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    watch_for: str = ""  # what the lab's picker shows under the study (else the file's leading comment)
    estimated_cpu_seconds: int = Field(default=600, ge=0)
    base: str | dict[str, Any]
    seeds: int | list[int] = 1
    axes: dict[str, list[Any]] = Field(default_factory=dict)
    trials: list[dict[str, Any]] | None = None
    workers: int | None = Field(default=None, ge=1)  # parallel trials (default: one per core)
    # Trials trained together as one run (default: from the memory estimate and the workers; 1:
    # every trial alone); --population-size overrides it.
    population_size: int | None = Field(default=None, ge=1)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: int | list[int]) -> int | list[int]:
        if isinstance(seeds, int) and seeds < 1:
            raise ValueError("a count >= 1 or a list of distinct ints >= 0")
        if isinstance(seeds, list) and (not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0):
            raise ValueError("a count >= 1 or a list of distinct ints >= 0")
        return seeds

    @field_validator("axes")
    @classmethod
    def _axes(cls, axes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in axes.items():
            if not values:
                raise ValueError(f"axis {path!r} has no values; give at least one")
            if path in ("seed", "seeds", "name"):
                raise ValueError(f"axis {path!r}: use the study's seeds key for seeds; the name is the study's")
        return axes

    @model_validator(mode="after")
    def _one_way_to_name_trials(self) -> "StudyConfig":
        if self.trials is not None and self.axes:
            raise ValueError("give [axes] or trials, not both")
        if self.trials is not None and not self.trials:
            raise ValueError("trials is empty; list at least one table of overrides")
        return self
