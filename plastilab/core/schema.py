"""The parts of the scenario schema every kind shares.

Each scenario kind declares a pydantic model that subclasses ``ScenarioConfig``. Models forbid
unknown keys and are strict about types (an int may stand for a float, nothing else is coerced),
so a typo or a quoted number in a TOML file is an error, not a silent default.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from plastilab.core.series_names import seeded_name

SeedValue = Annotated[int, Field(ge=0, lt=2**32)]  # numpy and torch take 32-bit seeds

Device = Literal["auto", "cpu", "cuda", "mps"]


class Strict(BaseModel):
    # allow_inf_nan=False: a learning rate of inf is a typo, not a setting.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class ScenarioConfig(Strict):
    kind: str
    # The name becomes a folder name and is shown in terminals: keep it plain.
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    # Two or three sentences for a learner: what the paper found, what to look at while it runs.
    # The lab shows them in the picker and in the dashboard's help (?).
    watch_for: str = ""
    estimated_cpu_seconds: int = Field(default=60, ge=0)
    seed: int = Field(default=0, ge=0, lt=2**32)  # numpy and torch take 32-bit seeds
    # Seeds are an axis of every kind: a count N (seeds seed .. seed+N-1) or a list of seeds.
    # Each seed is a whole independent run (data subset, initial weights, task stream), and
    # with more than one seed every series is named ``<series>/s<seed>``. Unset: one seed.
    seeds: Annotated[int, Field(ge=1, le=1000)] | Annotated[list[SeedValue], Field(min_length=1, max_length=1000)] | None = None
    device: Device = "auto"
    # torch's CPU threads, for the lab and `plastilab run` alike (``--threads`` overrides it):
    # metrics are identical run to run only at the same thread count. One suits the small
    # models here, and spinning threads collapse when another process shares the cores.
    threads: int = Field(default=1, ge=1, le=1024)
    # Save the run's whole state (networks, optimisers, random streams, replay buffer,
    # instrument baselines) into its folder every N steps, so `plastilab run --resume RUN_DIR`
    # continues it after a kill or a reboot; only the latest checkpoint is kept. 0: never.
    checkpoint_every: int = Field(default=0, ge=0)

    # Key paths a form shows first (the picker's "main parameters").
    main_parameters: ClassVar[tuple[str, ...]] = ()
    # Whether the kind's runner saves and restores checkpoints (``checkpoint_every``).
    supports_checkpoints: ClassVar[bool] = False

    @model_validator(mode="after")
    def _seeds_fit_in_32_bits(self) -> ScenarioConfig:
        if isinstance(self.seeds, int) and self.seed + self.seeds > 2**32:
            # An error at ``seeds`` that the scenario loader turns into 'seeds: found N; allowed: ...'.
            allowed = PydanticCustomError("seeds_too_large", f"at most {2**32 - self.seed} with seed = {self.seed}")
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=allowed, loc=("seeds",), input=self.seeds)]
            )
        return self

    @model_validator(mode="after")
    def _checkpoints_supported(self) -> ScenarioConfig:
        if self.checkpoint_every and not self.supports_checkpoints:
            # Refused, not ignored: a long run that silently never checkpoints is lost to a reboot.
            refused = PydanticCustomError("checkpoints_unsupported", f"0 (kind {self.kind} cannot checkpoint yet)")
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=refused, loc=("checkpoint_every",), input=self.checkpoint_every)]
            )
        return self

    def seed_values(self) -> list[int]:
        """The seeds this scenario runs, in order (``seeds`` resolved against ``seed``)."""
        if isinstance(self.seeds, list):
            return list(dict.fromkeys(self.seeds))  # a seed listed twice runs once
        return [self.seed + i for i in range(self.seeds or 1)]

    def seeded(self, names: list[str]) -> list[str]:
        """``names`` of one seed's run, for every seed: unchanged for one seed, else
        ``<name>/s<seed>`` grouped by name (all seeds of a series next to each other)."""
        seeds = self.seed_values()
        if len(seeds) == 1:
            return list(names)
        return [seeded_name(name, seed) for name in names for seed in seeds]

    def series(self) -> list[str]:
        """Every series a run of this scenario logs, in display order."""
        raise NotImplementedError

    def total_steps(self) -> int:
        """Training steps each series takes."""
        raise NotImplementedError


def agent_names_as_series(agents: dict[str, BaseModel]) -> dict[str, BaseModel]:
    """An agent's name is the first part of its series' names: non-empty, and no '/' in it (the
    separator of reward, agent, procedure and seed). The agent kinds' ``agents`` validator."""
    for name in agents:
        if not name or "/" in name:
            raise ValueError(f"agent name {name!r}: use a non-empty name without '/' (it names a series)")
    return agents


class DataConfig(Strict):
    dataset: Literal["mnist-5k", "mnist", "fashion-mnist", "cifar10"] = "mnist-5k"
    data_dir: str = "~/.cache/plastilab/data"
    download: bool = False
    n_images: int = Field(default=500, ge=10)
