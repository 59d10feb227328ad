"""The Hessian of a training loss, seen through Hessian-vector products (paper §3, Fig. 3-4).

Products are exact and come from :mod:`plastilab.instruments.hessian_products`, which picks the
fastest way on this machine by timing them (reverse over reverse with the first-order graph kept,
one vector at a time or batched; or torch.func's forward over reverse). Several vectors go through
one product at once, which is how the density's Lanczos chains and the trace's probe vectors are
run: in lockstep.

Verbs over those products:

* :meth:`HessianSpectrum.top_eigenvalues` / :meth:`~HessianSpectrum.smallest_eigenvalues` -
  Lanczos, the largest / smallest Ritz values;
* :meth:`HessianSpectrum.trace` - Hutchinson's estimator with Rademacher vectors;
* :meth:`HessianSpectrum.density` - stochastic Lanczos quadrature, smoothed by Gaussians whose
  width follows the bulk of the spectrum, integrated over bins (:class:`Quadrature`).

Attention runs on PyTorch's math kernel here (the fused kernels have no second derivative).
The model's mode is respected, never switched. An eval-mode batch norm normalises with (copies
of) its running statistics. In train mode, batch norm normalises with the batch's statistics (as
in a training step) on a private copy that keeps no running statistics, and dropout stays on with
its mask frozen (drawn once from a private stream with the spectrum's seed), so the operator is
the (symmetric) Hessian of one fixed dropout sub-network and the training loop's random streams
do not move. The kept graph is freed by :meth:`HessianSpectrum.release` (or leaving a ``with``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from plastilab.instruments.functional import LossFn
from plastilab.instruments.hessian_products import HessianProducts

BULK_TAIL = 5e-4  # mass left out each side of the bulk: outliers each carry ~1/n_params of it
OUTER_BIN_AFTER = 0.25  # nodes further beyond the bulk than this share of its width get an outer bin


@dataclass(frozen=True)
class Quadrature:
    """Gauss quadrature from Lanczos: chain ``s`` puts weight ``weights[s, j]`` on ``nodes[s, j]``.

    With a start vector ``v`` of unit norm, ``Σ_j weights[s, j] f(nodes[s, j])`` approximates
    ``v^T f(H) v`` (exactly, for polynomials of degree below twice the chain length), whose mean
    over random starts estimates ``tr f(H) / n_params`` - the spectral density's moments.
    """

    nodes: np.ndarray  # (n_starts, iterations) Ritz values, ascending within a chain
    weights: np.ndarray  # (n_starts, iterations), each row sums to 1

    def top(self, k: int) -> np.ndarray:
        """The ``k`` largest eigenvalues, descending.

        Ritz values never exceed the eigenvalue of the same rank (interlacing), so the best
        estimate of each rank is the largest over chains.
        """
        ranked = -np.sort(-self.nodes, axis=1)[:, :k]
        return ranked.max(axis=0)

    def bottom(self, k: int) -> np.ndarray:
        """The ``k`` smallest (most negative) eigenvalues, ascending; the smallest over chains."""
        return np.sort(self.nodes, axis=1)[:, :k].min(axis=0)

    def moment(self, power: int) -> float:
        """Estimate of the spectral moment ``tr(H^power) / n_params``."""
        return float((self.weights * self.nodes**power).sum(axis=1).mean())

    def bulk(self) -> tuple[float, float]:
        """Where the bulk of the spectrum lies: the quadrature's quantiles BULK_TAIL and 1 - BULK_TAIL.

        The few large outliers each carry about 1/n_params of the mass, so they fall outside;
        a spectrum of a few hundred eigenvalues has no such outliers and is all bulk.
        """
        order = np.argsort(self.nodes, axis=None)
        nodes = self.nodes.reshape(-1)[order]
        mass = np.cumsum(self.weights.reshape(-1)[order]) / self.weights.sum()
        low = nodes[min(np.searchsorted(mass, BULK_TAIL), len(nodes) - 1)]
        high = nodes[min(np.searchsorted(mass, 1 - BULK_TAIL), len(nodes) - 1)]
        return float(low), float(high)

    def smoothing_width(self, sigma: float) -> float:
        """``sigma`` times the bulk's spread (the whole span when the bulk is a single point)."""
        low, high = self.bulk()
        first, last = float(self.nodes.min()), float(self.nodes.max())
        return sigma * ((high - low) or (last - first) or max(abs(first), 1.0))

    def density(self, sigma: float = 0.005, n_bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """The smoothed spectral density integrated over ``n_bins`` bins: (fractions, edges).

        Each node is a Gaussian of width ``sigma`` times the bulk's spread (:meth:`bulk`; the
        whole span when the bulk is a single point), so the smoothing resolves the bulk however
        far the outliers lie. Equal bins cover the bulk plus four widths each side; where nodes lie
        far beyond that (more than a quarter of the bulk's width), one wider bin on that side reaches out to the outermost node (plus four
        widths) and holds the outliers' mass, so every eigenvalue is counted. ``fractions`` is the
        share of the eigenvalues in each bin (it sums to 1); ``edges`` has ``n_bins + 1`` entries,
        increasing. The raw quadrature (:attr:`nodes`,
        :attr:`weights`) lets any other smoothing be redone.
        """
        low, high = self.bulk()
        first, last = float(self.nodes.min()), float(self.nodes.max())
        width = self.smoothing_width(sigma)
        inner_low, inner_high = low - 4 * width, high + 4 * width
        # Nodes just beyond the bulk widen the equal bins; only far ones get an outer bin.
        reach = OUTER_BIN_AFTER * (inner_high - inner_low)
        if inner_low - (first - 4 * width) <= reach:
            inner_low = min(inner_low, first - 4 * width)
        if (last + 4 * width) - inner_high <= reach:
            inner_high = max(inner_high, last + 4 * width)
        below, above = first - 4 * width < inner_low, last + 4 * width > inner_high
        fine = max(n_bins - below - above, 1)
        edges = np.linspace(inner_low, inner_high, fine + 1)
        if below and n_bins > 1:
            edges = np.concatenate([[first - 4 * width], edges])
        if above and len(edges) <= n_bins:
            edges = np.concatenate([edges, [last + 4 * width]])
        cdf = _normal_cdf((edges[None, None, :] - self.nodes[:, :, None]) / width)  # (S, m, bins+1)
        cdf[..., 0], cdf[..., -1] = 0.0, 1.0  # the outer bins take the tails of every Gaussian
        mass = (self.weights[:, :, None] * np.diff(cdf, axis=-1)).sum(axis=1).mean(axis=0)
        return mass / mass.sum(), edges


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return torch.special.ndtr(torch.from_numpy(z)).numpy()


class HessianSpectrum:
    """The Hessian of ``loss_fn(model(inputs), targets)`` at the model's current parameters.

    ``batch`` is ``(inputs, targets)``; ``targets`` is a tensor or a tuple of tensors with a
    leading batch dimension. Parameters are read once, at construction: build a new spectrum
    after the model moves. Vectors are flat, ordered as ``model.named_parameters()`` (trainable
    ones only); :attr:`n_params` is their length. ``method`` forces a way of computing products
    (one of :data:`plastilab.instruments.hessian_products.METHODS`); by default the fastest,
    measured on first use.
    """

    def __init__(
        self, model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], *, seed: int = 0,
        method: str | None = None,
    ) -> None:
        self.products = HessianProducts(model, loss_fn, batch, seed=seed, method=method)
        self.device = self.products.device
        self.seed = seed
        self.n_params = self.products.n_params
        self.dtype = self.products.dtype
        self._generator = torch.Generator(device=self.device).manual_seed(seed)

    @property
    def method(self) -> str | None:
        """How the latest product was computed."""
        return self.products.method

    def hvp(self, vector: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat vector ``(n_params,)``, or row by row for a batch ``(b, n_params)``."""
        return self.products(vector)

    def release(self) -> None:
        """Free the first-order graph kept between products; later products rebuild it."""
        self.products.release()

    def __enter__(self) -> HessianSpectrum:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def top_eigenvalues(self, k: int = 1, iterations: int = 30) -> np.ndarray:
        """The ``k`` largest (algebraic) eigenvalues, descending, from one Lanczos chain."""
        return self.lanczos(max(iterations, k), n_starts=1).top(k)

    def smallest_eigenvalues(self, k: int = 1, iterations: int = 30) -> np.ndarray:
        """The ``k`` smallest (most negative) eigenvalues, ascending, from one Lanczos chain."""
        return self.lanczos(max(iterations, k), n_starts=1).bottom(k)

    def trace(self, n_samples: int = 32, chunk: int = 16) -> float:
        """Hutchinson's estimate ``mean(v^T H v)`` over Rademacher vectors ``v``."""
        total = 0.0
        for start in range(0, n_samples, chunk):
            count = min(chunk, n_samples - start)
            signs = torch.randint(0, 2, (count, self.n_params), generator=self._generator, device=self.device)
            v = (2 * signs - 1).to(self.dtype)
            total += float((v * self.hvp(v)).sum())
        return total / n_samples

    def density(
        self, iterations: int = 30, n_starts: int = 4, sigma: float = 0.005, n_bins: int = 200
    ) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalue density by stochastic Lanczos quadrature: (fractions per bin, bin edges)."""
        return self.lanczos(iterations, n_starts).density(sigma, n_bins)

    def lanczos(self, iterations: int, n_starts: int = 1, starts: torch.Tensor | None = None) -> Quadrature:
        """Run ``n_starts`` Lanczos chains in lockstep from Gaussian starts (or the rows of ``starts``).

        Full reorthogonalisation keeps the Ritz values free of spurious copies; it stores the
        basis, ``iterations * n_starts * n_params`` numbers. Chains are capped at ``n_params``.
        """
        if starts is None:
            starts = self._gaussian(n_starts)
        alphas, betas = self._lanczos_coefficients(starts.to(self.device, self.dtype), min(iterations, self.n_params))
        # Gauss quadrature of each chain: nodes are the eigenvalues of its tridiagonal matrix,
        # weights the squared first components of their eigenvectors. (torch, not numpy: numpy's
        # threaded LAPACK crawls on a busy machine for these tiny matrices.)
        a, b = torch.from_numpy(alphas), torch.from_numpy(betas)
        tridiagonal = torch.diag_embed(a) + torch.diag_embed(b, 1) + torch.diag_embed(b, -1)
        theta, vectors = torch.linalg.eigh(tridiagonal)
        return Quadrature(theta.numpy(), (vectors[:, 0, :] ** 2).numpy())

    def _lanczos_coefficients(self, starts: torch.Tensor, m: int) -> tuple[np.ndarray, np.ndarray]:
        n = starts.shape[0]
        # (chain, step, parameter): each chain's basis is one contiguous matrix.
        basis = torch.empty(n, m, self.n_params, device=self.device, dtype=self.dtype)
        alphas = torch.zeros(n, m, device=self.device, dtype=torch.float64)  # read back once, at the end
        betas = np.zeros((n, m - 1))
        q = starts / starts.norm(dim=1, keepdim=True)
        tol = 100 * torch.finfo(self.dtype).eps
        for j in range(m):
            basis[:, j] = q
            w = self.hvp(q)  # a fresh tensor: updated in place below
            alpha = torch.linalg.vecdot(w, q)
            alphas[:, j] = alpha
            if j == m - 1:
                break
            # The three-term recurrence, then one pass against the whole basis: in floating point
            # the recurrence alone loses orthogonality within a few steps (spurious eigenvalues).
            w.addcmul_(alpha.unsqueeze(1), q, value=-1)
            if j > 0:
                w.addcmul_(beta.unsqueeze(1), basis[:, j - 1], value=-1)
            _orthogonalise_(w, basis[:, : j + 1])
            beta = w.norm(dim=1)
            scale = alphas[:, : j + 1].abs().amax(dim=1).clamp_min(1e-30)
            # One host sync a step: the couplings, with a stalled chain's set to zero.
            both = torch.stack([beta.double(), scale]).cpu().numpy()
            beta_np = both[0]
            stalled = beta_np <= tol * both[1]
            beta_np[stalled] = 0.0
            betas[:, j] = beta_np
            beta = torch.from_numpy(beta_np).to(w)
            q = w / beta.clamp_min(torch.finfo(self.dtype).tiny).unsqueeze(1)
            if stalled.any():
                # The chain spans an invariant subspace: go on from a fresh orthogonal direction
                # with a zero coupling, which leaves the quadrature weights where they belong.
                fresh = self._gaussian(int(stalled.sum()))
                chains = basis[torch.as_tensor(stalled, device=self.device), : j + 1]
                _orthogonalise_(_orthogonalise_(fresh, chains), chains)
                q[torch.as_tensor(stalled, device=self.device)] = fresh / fresh.norm(dim=1, keepdim=True)
        return alphas.cpu().numpy(), betas

    def _gaussian(self, rows: int) -> torch.Tensor:
        return torch.randn(rows, self.n_params, generator=self._generator, device=self.device, dtype=self.dtype)


def _orthogonalise_(w: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """In place: remove from each row of ``w`` (n, p) its components along that chain's ``basis`` (n, j, p)."""
    # Two matrix-vector products a chain: a batched bmm of this shape runs several times slower.
    for c in range(w.shape[0]):
        w[c].addmv_(basis[c].T, basis[c].mv(w[c]), alpha=-1)
    return w
