"""Each intervention method's settings (pydantic only: no torch), and the methods' names.

They live here, beside the methods, because two callers above use them: the interventions
scenario's schema (``scenarios/interventions/schema.py``, its ``[interventions.*]`` tables) and a
DQN agent's ``intervention_settings`` (``agents/dqn_interventions_config.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from plastilab.core.schema import Strict

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
            raise invalid_at(("high",), self.high, f"a number > low ({self.low})")
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


def invalid_at(loc: tuple, found: object, allowed: str) -> ValidationError:
    """An error at ``loc`` that the scenario loader turns into 'KEY: found X; allowed: Y'."""
    error = PydanticCustomError("invalid_combination", allowed)
    return ValidationError.from_exception_data("InterventionsConfig", [InitErrorDetails(type=error, loc=loc, input=found)])
