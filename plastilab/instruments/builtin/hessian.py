"""``[instruments.hessian]``: top (and smallest) eigenvalues, trace and eigenvalue density of the
training loss's Hessian, from one set of lockstep Lanczos chains.

Tags: ``hessian/top_eigenvalue`` (``hessian/eigenvalue_<i>`` for i = 2..top_k),
``hessian/smallest_eigenvalue`` (``_<i>`` for i = 2..smallest_k, when asked), ``hessian/trace``,
a ``Histogram`` ``hessian/density`` and a ``Matrix`` ``hessian/quadrature`` (the raw nodes and
weights, one row a chain: ``nodes <s>`` rows then ``weights <s>`` rows) to redo any smoothing.
The maths is ``plastilab.instruments.hessian_spectrum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from plastilab.core.events import Event, Histogram, Log, Matrix
from plastilab.core.memory_estimate import ACTIVATION_COPIES, FLOAT, Part
from plastilab.core.schema import Strict
from plastilab.instruments.base import Instrument, Order, Measurement, MeasureRequest


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


class HessianInstrument(Instrument):
    """On ``n_examples`` of the runner's batch, spread over it; a checkpoint keeps which way of
    taking Hessian-vector products it timed fastest, so a resumed run takes them the same way."""

    name = "hessian"
    Config = HessianConfig
    order = Order(table=3, run=3, memory=2)
    takes_batch = True

    @classmethod
    def memory(cls, config: HessianConfig, parameters: int, n_in: int, width: int) -> list[Part]:
        return [
            # Lanczos keeps its basis (iterations vectors of every parameter, float64).
            Part("instruments.hessian.lanczos_iterations", "Hessian basis", (config.lanczos_iterations + 2) * parameters * 8),
            Part("instruments.hessian.n_examples", "Hessian batch", config.n_examples * (n_in + width * ACTIVATION_COPIES) * FLOAT),
        ]

    def measure(self, at: MeasureRequest) -> Measurement:
        from plastilab.instruments.functional import spread  # deferred: pulls in torch
        from plastilab.instruments.hessian_spectrum import HessianSpectrum  # deferred: pulls in torch

        cfg = self.config
        at.require_loss("hessian")
        chains = max(cfg.lanczos_iterations, cfg.top_k, cfg.smallest_k)
        # The kept first-order graph is freed on leaving the block.
        with HessianSpectrum(at.model, at.loss_fn, spread(at.batch, cfg.n_examples)[0], seed=self.inputs.seed) as spectrum:
            # One set of lockstep Lanczos chains serves the density and the extreme eigenvalues.
            quadrature = spectrum.lanczos(chains, cfg.n_starts)
            trace = spectrum.trace(cfg.trace_samples) if cfg.trace_samples else None
        counts, edges = quadrature.density(cfg.sigma, cfg.n_bins)
        arrays: list[Event] = [Histogram(at.step, at.series, "hessian/density", counts, edges)]
        starts = range(len(quadrature.nodes))
        rows = tuple(f"nodes {s}" for s in starts) + tuple(f"weights {s}" for s in starts)
        raw = np.concatenate([quadrature.nodes, quadrature.weights])
        arrays.append(Matrix(at.step, at.series, "hessian/quadrature", raw, rows))
        arrays.extend(Log("info", f"{at.series}: {line}", at.step) for line in spectrum.products.measurements)
        top = quadrature.top(cfg.top_k)
        out = {"hessian/top_eigenvalue": float(top[0])}
        out.update({f"hessian/eigenvalue_{i}": float(v) for i, v in enumerate(top[1:], start=2)})
        if cfg.smallest_k:
            smallest = quadrature.bottom(cfg.smallest_k)
            out["hessian/smallest_eigenvalue"] = float(smallest[0])
            out.update({f"hessian/smallest_eigenvalue_{i}": float(v) for i, v in enumerate(smallest[1:], start=2)})
        if trace is not None:
            out["hessian/trace"] = trace
        return Measurement(out, arrays)

    def state_dict(self) -> dict[str, Any]:
        from plastilab.instruments.hessian_products import choices_state  # deferred: pulls in torch

        return {"product_choices": choices_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from plastilab.instruments.hessian_products import restore_choices  # deferred: pulls in torch

        restore_choices(state.get("product_choices", []))
