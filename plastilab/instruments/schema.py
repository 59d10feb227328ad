"""The ``[instruments]`` table of a scenario file: which instruments run, how often, on how much.

Every sub-table is optional; a missing one, or ``every = 0``, switches that instrument off. Steps
are the scenario's training steps: an instrument runs at every step divisible by its ``every``.
This module imports pydantic only, so ``plastilab validate`` never pays for importing torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from plastilab.core.schema import Strict

ProbeFamily = Literal["network_regression", "high_frequency", "random_labels"]


class ProbeConfig(Strict):
    """The plasticity probe (paper §2): train a copy on K fresh targets, report its final loss.

    ``network_regression`` regresses (MSE) onto a freshly initialised network of the same shape;
    ``high_frequency`` onto ``sin(frequency * that) + offset``, which sits off the network's
    inductive bias; ``random_labels`` fits random class labels with cross-entropy.
    """

    every: int = Field(default=1000, ge=0)
    family: ProbeFamily = "network_regression"
    n_targets: int = Field(default=8, ge=1)  # K target functions, trained together
    probe_steps: int = Field(default=200, ge=1)  # the paper uses 2000; 200 suits a CPU
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=1e-3, gt=0)
    n_examples: int = Field(default=512, ge=1)  # inputs the targets are defined on
    frequency: float = Field(default=1e5, gt=0)  # high_frequency only
    offset: float = Field(default=1.0)  # high_frequency only


class StatsConfig(Strict):
    """Unit, feature-rank and weight statistics; cheap enough to run at every log step."""

    every: int = Field(default=50, ge=0)
    dormant_threshold: float = Field(default=0.025, ge=0)  # τ of ReDo's dormant-unit score
    n_examples: int = Field(default=256, ge=1)


class HessianConfig(Strict):
    """Top eigenvalues, trace and eigenvalue density of the training loss's Hessian."""

    every: int = Field(default=1000, ge=0)
    n_examples: int = Field(default=256, ge=1)  # the batch the Hessian is taken on
    lanczos_iterations: int = Field(default=30, ge=2)
    top_k: int = Field(default=1, ge=1)  # checked against lanczos_iterations, so declared after it
    smallest_k: int = Field(default=0, ge=0)  # the most negative eigenvalues too (0: none)
    n_starts: int = Field(default=4, ge=1)  # random start vectors of the density's quadrature
    # Smoothing width as a fraction of the bulk's spread (the quadrature's 0.05%-99.95% range), so
    # it resolves the bulk however far the outliers lie; most bins cover the bulk.
    sigma: float = Field(default=0.005, gt=0)
    n_bins: int = Field(default=200, ge=2)
    trace_samples: int = Field(default=32, ge=0)  # Hutchinson probe vectors; 0 skips the trace

    @field_validator("top_k", "smallest_k")
    @classmethod
    def _at_most_the_iterations(cls, top_k: int, info: ValidationInfo) -> int:
        # An error on the key itself, so the file's one-line message names instruments.hessian.top_k.
        iterations = info.data.get("lanczos_iterations")
        if iterations is not None and top_k > iterations:
            raise PydanticCustomError(
                "top_k_above_iterations", "a number <= lanczos_iterations ({iterations})", {"iterations": iterations}
            )
        return top_k


class CovarianceConfig(Strict):
    """Cosine similarity between per-example gradients, on a batch ordered by class or task."""

    every: int = Field(default=1000, ge=0)
    n_examples: int = Field(default=64, ge=2)


class PolicyConfig(Strict):
    """A Q-network's policy on a fixed state set: softmax-Q and greedy-action entropy, and the
    greedy-action churn since the previous measurement (instruments/policy.py)."""

    every: int = Field(default=1000, ge=0)
    n_examples: int = Field(default=256, ge=1)  # the fixed states
    temperature: float = Field(default=1.0, gt=0)  # T of softmax(Q/T)


class InstrumentsConfig(Strict):
    probe: ProbeConfig | None = None
    stats: StatsConfig | None = None
    hessian: HessianConfig | None = None
    covariance: CovarianceConfig | None = None
    policy: PolicyConfig | None = None
