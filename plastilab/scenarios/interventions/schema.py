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
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from plastilab.analysis.ranking import DEFAULT_WINDOW
from plastilab.core.schema import DataConfig, Strict
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.scenarios.interventions.streams.options import ClassIncrementalOptions, stream_problem
from plastilab.scenarios.schema_parts import CheckpointingScenario

Architecture = Literal["mlp", "cnn", "resnet18", "vit"]
# crelu = [relu(z), relu(−z)], dff = [sin z, cos z]: two outputs per unit, the next layer's fan-in doubled.
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "crelu", "dff"]
INTERVENTIONS = (
    "none",
    "reset_last_layer",
    "reset_optimizer",
    "layer_norm",
    "shrink_and_perturb",
    "spectral_norm",
    "weight_decay",
    "two_hot",
    "redo",
    "l2_init",
    "continual_backprop",
    "plasticity_injection",
    "crelu",
    "dff",
    "parseval",
    "nap",
    "regrama",
    "trac",
    "layer_reset",
    "full_reset",
)
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


class ShrinkAndPerturbConfig(Strict):
    """θ ← λθ + (1−λ)θ_target + σε at each task change, or every ``every_steps`` steps if not 0.
    ``target = "zero"`` is Ash & Adams' form; ``"init"`` pulls toward the initial weights
    (Plasticine: every step, λ = 0.999999, σ = 0). LoP's continual form is ``every_steps = 1``,
    λ = 1 − lr·wd, σ ≈ 1e-5."""

    shrink: float = Field(default=0.8, ge=0, le=1)  # λ
    noise_std: float = Field(default=0.01, ge=0)  # σ
    every_steps: int = Field(default=0, ge=0)
    target: Literal["zero", "init"] = "zero"


class WeightDecayConfig(Strict):
    """Decoupled (default): θ ← θ − lr·λ·θ after each step. Coupled: the loss gains (λ/2)‖θ‖²,
    as ``Adam(weight_decay=λ)`` (Plasticine, λ = 1e-3) or SGD's weight decay (LoP, 1e-3…1e-5)."""

    weight_decay: float = Field(default=0.1, ge=0)
    coupled: bool = False


class L2InitConfig(Strict):
    """The loss gains coefficient · Σ ||θ − θ₀||²."""

    coefficient: float = Field(default=1e-3, ge=0)


class RedoConfig(Strict):
    """Recycle units whose dormancy score is ≤ threshold, at each task change (and every
    ``every_steps`` steps if that is not 0), scored on ``n_examples`` of the task's inputs."""

    threshold: float = Field(default=0.1, ge=0)  # τ (Plasticine 0.025; dopamine 0.0 or 0.1)
    every_steps: int = Field(default=0, ge=0)
    n_examples: int = Field(default=256, ge=1)
    # A recycled unit's bias: "fresh" from a new layer like its weights, or "zero" (dopamine's).
    bias: Literal["fresh", "zero"] = "fresh"


class ContinualBackpropConfig(Strict):
    """Continual backprop (Dohare et al. 2024); defaults: LoP's permuted-MNIST configuration."""

    replacement_rate: float = Field(default=1e-4, ge=0)  # ρ, units per eligible unit per step
    decay: float = Field(default=0.99, gt=0, lt=1)  # η of the running mean and utility
    maturity: int = Field(default=100, ge=0)  # m: steps before a unit may be replaced
    utility: Literal["contribution", "adaptable_contribution"] = "adaptable_contribution"


class PlasticityInjectionConfig(Strict):
    """Inject a fresh head at every ``every_task_changes``-th task change (1: each one, as
    Plasticine's continual Procgen does; the paper injects once)."""

    every_task_changes: int = Field(default=1, ge=1)


class ParsevalConfig(Strict):
    """The loss gains coefficient · Σ_l ‖W_l W_lᵀ − scale·I‖²_F over every hidden layer."""

    coefficient: float = Field(default=1e-3, ge=0)
    scale: float = Field(default=1.0, gt=0)


class ReGraMaConfig(Strict):
    """Recycle units whose normalised incoming-gradient magnitude is ≤ threshold, every ``every_steps``."""

    threshold: float = Field(default=0.01, ge=0)
    every_steps: int = Field(default=1000, ge=1)


class LayerResetConfig(Strict):
    """Reset the last ``last_layers`` Linear/Conv layers (the head is one) at each task change,
    or every ``every_steps`` steps if not 0 (Nikishin et al. 2022: every 2×10⁵ updates)."""

    last_layers: int = Field(default=1, ge=1)
    every_steps: int = Field(default=0, ge=0)


class FullResetConfig(Strict):
    """Reset the whole network and its optimiser at each task change, or every ``every_steps``."""

    every_steps: int = Field(default=0, ge=0)


class TwoHotConfig(Strict):
    """Regression targets become two-hot distributions over ``n_bins`` bins from low to high."""

    low: float = -5.0
    high: float = 5.0
    n_bins: int = Field(default=51, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> TwoHotConfig:
        if not self.high > self.low:
            raise _invalid(("high",), self.high, f"a number > low ({self.low})")
        return self


class SpectralNormConfig(Strict):
    include_head: bool = False


class InterventionSettings(Strict):
    shrink_and_perturb: ShrinkAndPerturbConfig = Field(default_factory=ShrinkAndPerturbConfig)
    weight_decay: WeightDecayConfig = Field(default_factory=WeightDecayConfig)
    l2_init: L2InitConfig = Field(default_factory=L2InitConfig)
    redo: RedoConfig = Field(default_factory=RedoConfig)
    two_hot: TwoHotConfig = Field(default_factory=TwoHotConfig)
    spectral_norm: SpectralNormConfig = Field(default_factory=SpectralNormConfig)
    continual_backprop: ContinualBackpropConfig = Field(default_factory=ContinualBackpropConfig)
    plasticity_injection: PlasticityInjectionConfig = Field(default_factory=PlasticityInjectionConfig)
    parseval: ParsevalConfig = Field(default_factory=ParsevalConfig)
    regrama: ReGraMaConfig = Field(default_factory=ReGraMaConfig)
    layer_reset: LayerResetConfig = Field(default_factory=LayerResetConfig)
    full_reset: FullResetConfig = Field(default_factory=FullResetConfig)


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


def _invalid(loc: tuple, found: object, allowed: str) -> ValidationError:
    """An error at ``loc`` that the scenario loader turns into 'KEY: found X; allowed: Y'."""
    error = PydanticCustomError("invalid_combination", allowed)
    return ValidationError.from_exception_data("InterventionsConfig", [InitErrorDetails(type=error, loc=loc, input=found)])
