"""The interventions scenario's file format (paper §5.2).

A network is trained on a sequence of iterations; each draws new targets for the same inputs
(re-drawn class labels, or the outputs of a fresh random network) and trains
``task.steps_per_iteration`` steps. The run trains a grid of architecture × intervention
combination × seed, each its own series named ``<architecture>+<combination>/s<seed>``, e.g.
``mlp+layer_norm+weight_decay/s0``. A combination joins intervention names with ``+``.
This module imports pydantic only, so ``plastilab validate`` never pays for importing torch.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from plastilab.analysis.ranking import DEFAULT_WINDOW
from plastilab.core.schema import DataConfig, Strict
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.interventions.settings import (  # the methods' settings live with the methods
    INTERVENTIONS,
    InterventionSettings,
    invalid_at as _invalid,
)
from plastilab.scenarios.interventions.streams.options import ClassIncrementalOptions, stream_problem
from plastilab.scenarios.schema_parts import CheckpointingScenario

Architecture = Literal["mlp", "cnn", "resnet18", "vit"]
# crelu = [relu(z), relu(−z)], dff = [sin z, cos z]: two outputs per unit, the next layer's fan-in doubled.
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "crelu", "dff"]
# Pairs that cannot go together: a head that is replaced (injection) cannot also be reset as a
# layer, and a unit has one activation.
EXCLUSIVE = (
    ("plasticity_injection", "reset_last_layer"),
    ("plasticity_injection", "layer_reset"),
    ("plasticity_injection", "full_reset"),
    ("crelu", "dff"),
)


def _check_combination(text: str) -> str:
    names = text.split("+")
    unknown = [n for n in names if n not in INTERVENTIONS]
    clash = next((pair for pair in EXCLUSIVE if set(pair) <= set(names)), None)
    if clash is not None:
        raise PydanticCustomError(
            "literal_error", "{expected}", {"expected": f"{clash[0]} or {clash[1]} in one combination, not both"}
        )
    if unknown or len(set(names)) != len(names) or ("none" in names and len(names) > 1):
        raise PydanticCustomError(
            "literal_error",
            "an intervention name or several joined by +",
            {"expected": "names joined by + (each once; 'none' alone), from " + ", ".join(INTERVENTIONS)},
        )
    return text


Combination = Annotated[str, AfterValidator(_check_combination)]


class SlowlyChangingRegressionOptions(Strict):
    """LoP's slowly-changing regression (the bit-flipping problem): ``n_inputs`` bits, the first
    ``n_slow_bits`` held for an iteration (steps_per_iteration × batch_size examples) and then
    changed, the rest drawn anew for every example; targets from a fixed network of
    ``target_hidden`` linear threshold units with weights ±1 and threshold parameter ``beta``
    (streams/slowly_changing_regression.py)."""

    n_inputs: int = Field(default=20, ge=2)
    n_slow_bits: int = Field(default=15, ge=1)
    # redraw: all slow bits drawn anew at a change (LoP's published runs, cfg/prob.json);
    # flip_one: one of them, chosen at random, flipped (LoP's cfg/flip_one variant).
    change: Literal["redraw", "flip_one"] = "redraw"
    target_hidden: int = Field(default=100, ge=1)
    beta: float = Field(default=0.7, gt=0, le=1)

    @model_validator(mode="after")
    def _fast_bits(self) -> SlowlyChangingRegressionOptions:
        fast = self.n_inputs - self.n_slow_bits
        if not 1 <= fast <= 16:  # an iteration's task is every combination of the fast bits
            allowed = f"an integer from {max(1, self.n_inputs - 16)} to {self.n_inputs - 1} (n_inputs − n_slow_bits fast bits, 1 to 16)"
            raise _invalid(("n_slow_bits",), self.n_slow_bits, allowed)
        return self


class TaskConfig(Strict):
    # labels, regression: new targets for the same inputs; the streams (streams/): new inputs and
    # labels (permuted_inputs, class_incremental, binary_pairs) or their own inputs and targets
    # (slowly_changing_regression).
    targets: Literal["labels", "regression", "permuted_inputs", "class_incremental", "binary_pairs", "slowly_changing_regression"] = "labels"
    n_iterations: int = Field(default=20, ge=1)
    steps_per_iteration: int = Field(default=300, ge=1)
    n_classes: int = Field(default=10, ge=2)  # labels only
    n_outputs: int = Field(default=1, ge=1)  # regression only: outputs of the random network
    # regression only: 0 regresses onto the random network's (standardised) outputs; a
    # frequency f > 0 onto sin(f · those), a target far off the network's inductive bias.
    frequency: float = Field(default=0.0, ge=0)
    class_incremental: ClassIncrementalOptions = Field(default_factory=ClassIncrementalOptions)
    # slowly_changing_regression only: the stream's own inputs (no images) and target network
    slowly_changing_regression: SlowlyChangingRegressionOptions = Field(default_factory=SlowlyChangingRegressionOptions)


class TrainingConfig(Strict):
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(default=1e-3, gt=0)
    batch_size: int = Field(default=64, ge=1)
    log_every: int = Field(default=50, ge=1)


class GridConfig(Strict):
    architectures: list[Architecture] = Field(default_factory=lambda: ["mlp"], min_length=1)
    interventions: list[Combination] = Field(default_factory=lambda: ["none"], min_length=1)
    # Older spelling of the top-level ``seeds`` count (files that use it stay valid; ``seeds``,
    # when set, replaces it): series /s<seed> for seeds seed .. seed+n_seeds-1.
    n_seeds: int = Field(default=1, ge=1)


class MLPOptions(Strict):
    hidden: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [256, 256], min_length=1)
    activation: Activation = "relu"


class CNNOptions(Strict):
    channels: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [32, 64], min_length=1)
    hidden: int = Field(default=128, ge=1)
    activation: Activation = "relu"


class ResNetOptions(Strict):
    """torchvision's ResNet-18 takes no options here."""


class ViTOptions(Strict):
    patch_size: int = Field(default=4, ge=1)
    dim: int = Field(default=64, ge=1)
    depth: int = Field(default=4, ge=1)
    heads: int = Field(default=4, ge=1)
    mlp_ratio: int = Field(default=2, ge=1)
    pool: Literal["cls", "mean"] = "cls"


class ModelsConfig(Strict):
    mlp: MLPOptions = Field(default_factory=MLPOptions)
    cnn: CNNOptions = Field(default_factory=CNNOptions)
    resnet18: ResNetOptions = Field(default_factory=ResNetOptions)
    vit: ViTOptions = Field(default_factory=ViTOptions)


class RankingConfig(Strict):
    """Rank by mean final loss over the last ``window`` iterations; compare with the first ``window``."""

    window: int = Field(default=DEFAULT_WINDOW, ge=1)


class InterventionsConfig(CheckpointingScenario):
    kind: Literal["interventions"]
    data: DataConfig = Field(default_factory=DataConfig)
    task: TaskConfig = Field(default_factory=TaskConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    interventions: InterventionSettings = Field(default_factory=InterventionSettings)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    instruments: InstrumentsConfig | None = None  # plasticity probe, unit stats, Hessian, ...

    main_parameters = ("task.targets", "task.n_iterations", "task.steps_per_iteration", "grid.architectures", "grid.interventions", "grid.n_seeds", "training.lr", "seed")

    @model_validator(mode="after")
    def _two_hot_needs_regression(self) -> InterventionsConfig:
        for i, combination in enumerate(self.grid.interventions):
            names = combination.split("+")
            odd = [a for a in self.grid.architectures if a not in ("mlp", "cnn")]
            if ("crelu" in names or "dff" in names) and odd:
                allowed = f"combinations without crelu or dff, since the {odd[0]} architecture has no activation option"
                raise _invalid(("grid", "interventions", i), combination, allowed)
            if "two_hot" in combination.split("+") and self.task.targets != "regression":
                allowed = 'combinations without two_hot, since two_hot needs task.targets = "regression"'
                raise _invalid(("grid", "interventions", i), combination, allowed)
        return self

    @model_validator(mode="after")
    def _bit_stream_fits(self) -> InterventionsConfig:
        if self.task.targets != "slowly_changing_regression":
            return self
        odd = next((i for i, a in enumerate(self.grid.architectures) if a != "mlp"), None)
        if odd is not None:  # the inputs are a row of bits, not an image
            raise _invalid(("grid", "architectures", odd), self.grid.architectures[odd], '"mlp", since slowly_changing_regression\'s inputs are bits')
        if self.task.n_outputs != 1:
            raise _invalid(("task", "n_outputs"), self.task.n_outputs, "1, since slowly_changing_regression's target network has one output")
        return self

    @model_validator(mode="after")
    def _stream_fits_the_data(self) -> InterventionsConfig:
        problem = stream_problem(self.task.targets, self.task.class_incremental, self.task.n_iterations, self.data.dataset)
        if problem is not None:
            raise _invalid(*problem)
        return self

    def seed_values(self) -> list[int]:
        if self.seeds is None:  # the grid's older spelling of a seed count; ``seeds`` replaces it
            return [self.seed + i for i in range(self.grid.n_seeds)]
        return super().seed_values()

    def series(self) -> list[str]:
        # Always with /s<seed>, even for one seed: the ranking groups series by it.
        return [
            series_name(arch, combination, seed)
            for arch in self.grid.architectures
            for combination in self.grid.interventions
            for seed in self.seed_values()
        ]

    def total_steps(self) -> int:
        return self.task.n_iterations * self.task.steps_per_iteration


def series_name(arch: str, combination: str, seed: int) -> str:
    return f"{arch}+{combination}/s{seed}"
