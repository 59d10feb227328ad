"""The Hessian's eigenvalues as one object: top-k, density and moments from one Lanczos run.

    spectrum = hessian(model, loss_fn, (x, y))
    spectrum.top(3)          # runs the Lanczos chains (n_starts of them, `iterations` steps each)
    spectrum.density()       # the same chains: no new Hessian-vector product
    spectrum.trace()         # Hutchinson's estimator: products of its own

Each Lanczos step is one Hessian-vector product, the expensive part; asking ``top`` and
``density`` of one :class:`Spectrum` pays for them once.

How the products are computed is :attr:`Spectrum.method`. The method is logged at INFO on the
``plastilab.instruments`` logger after the first products, and again at any switch (for a loss
whose backward has no forward-mode rule, such as ``huber_loss``, the slower reverse-over-reverse
products take over); ``logging.basicConfig(level="INFO")`` shows it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from plastilab.instruments.functional import LossFn
from plastilab.instruments.hessian_spectrum import HessianSpectrum, Quadrature
from plastilab.instruments.input_checks import check_batch

logger = logging.getLogger("plastilab.instruments")


class Spectrum:
    """The eigenvalues of the Hessian ``operator``, from ``n_starts`` Lanczos chains run once, when first asked.

    ``iterations`` bounds ``top(k)`` (k at most ``iterations``) and sets the density's resolution;
    more ``n_starts`` make the density and moments less noisy (the chains run in lockstep).
    """

    def __init__(self, operator: HessianSpectrum, *, iterations: int = 30, n_starts: int = 4) -> None:
        if iterations < 1 or n_starts < 1:
            raise ValueError(f"iterations and n_starts must be >= 1; found {iterations} and {n_starts}")
        self.operator = operator
        self.iterations = iterations
        self.n_starts = n_starts
        self.lanczos_runs = 0  # how many times the chains ran: 1 however many questions are asked
        self._quadrature: Quadrature | None = None
        self._first_method = operator.method
        self._method_seen: str | None = None  # logged after the first products, and at every switch

    @property
    def method(self) -> str:
        """How Hessian-vector products are computed (``HessianSpectrum.method``), e.g. ``forward-over-reverse``."""
        return self.operator.method

    @property
    def n_params(self) -> int:
        """The Hessian's size: the number of trainable parameters (those with ``requires_grad``)."""
        return self.operator.n_params

    @property
    def quadrature(self) -> Quadrature:
        """The Lanczos chains' Gauss quadrature (Ritz values and weights), computed on first use."""
        if self._quadrature is None:
            self._quadrature = self._noting_method(lambda: self.operator.lanczos(self.iterations, self.n_starts))
            self.lanczos_runs += 1
        return self._quadrature

    def top(self, k: int = 1) -> np.ndarray:
        """The ``k`` largest eigenvalues, descending (the largest Ritz value of each rank over the chains)."""
        if not 1 <= k <= min(self.iterations, self.n_params):
            raise ValueError(
                f"top(k={k}): k must be between 1 and iterations ({self.iterations}); "
                f"build the spectrum with iterations >= {k}"
            )
        return self.quadrature.top(k)

    def density(self, **smoothing: Any) -> tuple[np.ndarray, np.ndarray]:
        """The smoothed eigenvalue density: (share of eigenvalues in each bin, the bin edges).

        Keyword arguments go to :meth:`Quadrature.density` (``sigma``, the Gaussian smoothing
        width, and ``n_bins``); its defaults apply otherwise.
        """
        return self.quadrature.density(**smoothing)

    def moment(self, power: int) -> float:
        """``tr(H^power) / n_params`` estimated from the same chains."""
        return self.quadrature.moment(power)

    def trace(self, **options: Any) -> float:
        """Hutchinson's estimate of ``tr H`` over Rademacher vectors (products of its own).

        Keyword arguments go to :meth:`HessianSpectrum.trace` (``n_samples``, default 32).
        """
        return self._noting_method(lambda: self.operator.trace(**options))

    def hvp(self, vector: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat vector ordered as ``model.named_parameters()`` (trainable ones), or a batch of them."""
        return self._noting_method(lambda: self.operator.hvp(vector))

    def _noting_method(self, compute):
        result = compute()
        method = self.operator.method
        if self._method_seen is None or method != self._method_seen:
            switched = f" (switched from {self._method_seen or self._first_method} for this loss)"
            changed = method != (self._method_seen or self._first_method)
            logger.info("Hessian-vector products by %s%s; see Spectrum.method", method, switched if changed else "")
            self._method_seen = method
        return result


def hessian(
    model: nn.Module,
    loss_fn: LossFn,
    batch: tuple[torch.Tensor, Any],
    *,
    iterations: int = 30,
    n_starts: int = 4,
    seed: int = 0,
) -> Spectrum:
    """The Hessian of ``loss_fn(model(inputs), targets)`` over the trainable parameters, at their values now.

    ``batch`` is ``(inputs, targets)``; ``targets`` is a tensor or a tuple of tensors with one row
    per example (a TD loss takes ``(actions, td_targets)``). ``loss_fn`` returns the batch's mean
    loss. Parameters with ``requires_grad=False`` are constants: freeze a network's body to take
    the Hessian of its head alone. The model's mode is respected (train-mode batch norm uses the
    batch's statistics, as in a training step); nothing of the model is changed.

    Raises :class:`~plastilab.instruments.input_checks.ModelInputError` (one line) when the model
    or the loss cannot take the batch.
    """
    check_batch(model, loss_fn, batch, seed=seed)
    operator = HessianSpectrum(model, loss_fn, batch, seed=seed)  # eval-mode norms keep their statistics
    return Spectrum(operator, iterations=iterations, n_starts=n_starts)
