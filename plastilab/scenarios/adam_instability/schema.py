"""The Adam-instability scenario's file format (paper §3.1, Figure 1).

A two-hidden-layer MLP memorises random labels of a fixed set of images; every
``training.steps_per_task`` steps the labels are drawn again. Several optimiser variants train
side by side on the identical stream of images, labels and mini-batches.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from plastilab.core.schema import DataConfig, Strict
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.scenarios.schema_parts import CheckpointingScenario


class ModelConfig(Strict):
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [128, 128], min_length=1)
    activation: Literal["relu", "tanh", "sigmoid", "gelu"] = "relu"
    layer_norm: bool = False


class TrainingConfig(Strict):
    n_tasks: int = Field(default=5, ge=1)
    steps_per_task: int = Field(default=3000, ge=1)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    log_every: int = Field(default=25, ge=1)
    n_classes: int = Field(default=10, ge=2)
    # Train a variant's seeds as one stack of parameters (one batched step for all seeds) or
    # one after another; "auto" stacks where bench/bench_seeds_batched.py found it faster.
    stack_seeds: Literal["auto", "on", "off"] = "auto"


class VariantConfig(Strict):
    """One optimiser; unset ``lr`` means ``training.lr`` (Adam) or 0.1 (SGD)."""

    optimizer: Literal["adam", "sgd"]
    lr: float | None = Field(default=None, gt=0)
    beta1: float = Field(default=0.9, ge=0, lt=1)
    beta2: float = Field(default=0.999, ge=0, lt=1)
    eps: float = Field(default=1e-8, gt=0)
    momentum: float = Field(default=0.0, ge=0, lt=1)

    def learning_rate(self, training_lr: float) -> float:
        if self.lr is not None:
            return self.lr
        return training_lr if self.optimizer == "adam" else 0.1


def default_variants() -> dict[str, VariantConfig]:
    # The series names are part of the output contract: keep them stable.
    return {
        "adam-default": VariantConfig(optimizer="adam"),
        "adam-beta2": VariantConfig(optimizer="adam", beta2=0.9),
        "adam-eps": VariantConfig(optimizer="adam", eps=1e-3),
        "adam-beta2-eps": VariantConfig(optimizer="adam", beta2=0.9, eps=1e-3),
        "sgd": VariantConfig(optimizer="sgd"),
    }


class AdamInstabilityConfig(CheckpointingScenario):
    kind: Literal["adam_instability"]
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    variants: dict[str, VariantConfig] = Field(default_factory=default_variants, min_length=1)
    instruments: InstrumentsConfig | None = None

    @model_validator(mode="after")
    def _resolve_learning_rates(self) -> AdamInstabilityConfig:
        """Write each variant's effective lr, so the run folder's scenario.toml says it."""
        resolved = {
            name: v if v.lr is not None else v.model_copy(update={"lr": v.learning_rate(self.training.lr)})
            for name, v in self.variants.items()
        }
        object.__setattr__(self, "variants", resolved)  # frozen model: set once, while validating
        return self

    main_parameters = ("training.n_tasks", "training.steps_per_task", "training.lr", "training.batch_size", "data.n_images", "seed")

    def series(self) -> list[str]:
        return self.seeded(list(self.variants))

    def total_steps(self) -> int:
        return self.training.n_tasks * self.training.steps_per_task
