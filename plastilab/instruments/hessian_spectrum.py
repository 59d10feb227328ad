"""The Hessian of a training loss, seen through Hessian-vector products (paper §3, Fig. 3-4).

Products come from torch.func, forward over reverse: ``jvp`` of ``grad`` of the loss written as a
``functional_call`` of the model. Several vectors go through one ``vmap``-ed product at once, which
is how the density's Lanczos chains and the trace's probe vectors are run: in lockstep.

Three verbs over those products:

* :meth:`HessianSpectrum.top_eigenvalues` - Lanczos, the largest Ritz values;
* :meth:`HessianSpectrum.trace` - Hutchinson's estimator with Rademacher vectors;
* :meth:`HessianSpectrum.density` - stochastic Lanczos quadrature, smoothed by Gaussians and
  integrated over bins.

Attention runs on PyTorch's math kernel here (the fused kernels have no second derivative).
The model's mode is respected, never switched. In train mode, batch norm normalises with the
batch's statistics (as in a training step) on a private copy that keeps no running statistics, and
dropout stays on with its mask frozen: every product re-seeds a private random stream with the
same seed, so the operator is the (symmetric) Hessian of one fixed dropout sub-network and the
training loop's random streams do not move.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vjp, vmap
from torch.utils._pytree import tree_flatten, tree_unflatten

from plastilab.instruments.functional import (
    LossFn,
    flatten,
    isolated_rng,
    model_device,
    private_copy,
    to_device,
    trainable_params,
    twice_differentiable,
    unflatten,
)


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

    def moment(self, power: int) -> float:
        """Estimate of the spectral moment ``tr(H^power) / n_params``."""
        return float((self.weights * self.nodes**power).sum(axis=1).mean())

    def density(self, sigma: float = 0.01, n_bins: int = 80) -> tuple[np.ndarray, np.ndarray]:
        """The smoothed spectral density integrated over ``n_bins`` bins: (fractions, edges).

        Each node is a Gaussian of width ``sigma`` times the spectrum's scale,
        ``max(λmax - λmin, |λmax|, |λmin|)``; bins span the nodes plus three widths each side.
        ``fractions`` is the share of the eigenvalues in each bin (it sums to 1); ``edges`` has
        ``n_bins + 1`` entries.
        """
        low, high = float(self.nodes.min()), float(self.nodes.max())
        width = sigma * (max(high - low, abs(high), abs(low)) or 1.0)
        edges = np.linspace(low - 3 * width, high + 3 * width, n_bins + 1)
        cdf = _normal_cdf((edges[None, None, :] - self.nodes[:, :, None]) / width)  # (S, m, bins+1)
        mass = (self.weights[:, :, None] * np.diff(cdf, axis=-1)).sum(axis=1).mean(axis=0)
        return mass / mass.sum(), edges


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return torch.special.ndtr(torch.from_numpy(z)).numpy()


class HessianSpectrum:
    """The Hessian of ``loss_fn(model(inputs), targets)`` at the model's current parameters.

    ``batch`` is ``(inputs, targets)``; ``targets`` is a tensor or a tuple of tensors with a
    leading batch dimension. Parameters are read once, at construction: build a new spectrum
    after the model moves. Vectors are flat, ordered as ``model.named_parameters()`` (trainable
    ones only); :attr:`n_params` is their length.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], *, seed: int = 0) -> None:
        self.device = model_device(model)
        self.seed = seed
        self._params = {k: v.clone() for k, v in trainable_params(model).items()}
        self.n_params = sum(t.numel() for t in self._params.values())
        self.dtype = next(iter(self._params.values())).dtype
        twin = private_copy(model)
        buffers = dict(twin.named_buffers())
        inputs, targets = to_device(batch, self.device)
        # Float targets enter jvp as primals with explicit zero tangents: left as constants they
        # reach some losses' backward (mse_loss) as immutable zero tensors, which then fails.
        leaves, spec = tree_flatten(targets)
        floats = [i for i, t in enumerate(leaves) if isinstance(t, torch.Tensor) and t.is_floating_point()]
        self._float_targets = tuple(leaves[i] for i in floats)
        self._zero_tangents = tuple(torch.zeros_like(t) for t in self._float_targets)

        def loss(params, float_targets):
            full = list(leaves)
            for i, t in zip(floats, float_targets):
                full[i] = t
            return loss_fn(functional_call(twin, (params, buffers), (inputs,)), tree_unflatten(full, spec))

        self._gradient = grad(loss)
        self.method = "forward-over-reverse"
        self._pullback = None
        # Built once: re-creating vmapped closures in a loop costs time for nothing.
        self._hvp_one = self._forward_over_reverse
        self._hvp_many = vmap(self._forward_over_reverse, randomness="same")
        self._generator = torch.Generator(device=self.device).manual_seed(seed)

    def _forward_over_reverse(self, vector: torch.Tensor) -> torch.Tensor:
        tangents = (unflatten(vector, self._params), self._zero_tangents)
        return flatten(jvp(self._gradient, (self._params, self._float_targets), tangents)[1])

    def _reverse_over_reverse(self, vector: torch.Tensor) -> torch.Tensor:
        return flatten(self._pullback(unflatten(vector, self._params))[0])

    def _fall_back(self) -> None:
        """For losses whose backward has no forward-mode rule (``huber_loss``): vjp of grad.

        The pullback is built once and reused, so its graph is kept between products.
        """
        with isolated_rng(self.seed, self.device), twice_differentiable():
            _, self._pullback = vjp(lambda p: self._gradient(p, self._float_targets), self._params)
        self.method = "reverse-over-reverse"
        self._hvp_one = self._reverse_over_reverse
        self._hvp_many = vmap(self._reverse_over_reverse, randomness="same")

    def hvp(self, vector: torch.Tensor) -> torch.Tensor:
        """``H v`` for a flat vector ``(n_params,)``, or row by row for a batch ``(b, n_params)``.

        :attr:`method` says how: ``forward-over-reverse`` (jvp of grad), or, for a loss with no
        forward-mode rule in its backward, ``reverse-over-reverse`` (vjp of grad).
        """
        try:
            return self._product(vector)
        except (RuntimeError, NotImplementedError) as error:
            if self.method != "forward-over-reverse" or "forward AD" not in str(error):
                raise
        self._fall_back()
        return self._product(vector)

    def _product(self, vector: torch.Tensor) -> torch.Tensor:
        with isolated_rng(self.seed, self.device), twice_differentiable(), warnings.catch_warnings():
            # torch's forward AD loads its decompositions through torch.jit.script, which warns.
            warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
            return self._hvp_many(vector) if vector.dim() == 2 else self._hvp_one(vector)

    def top_eigenvalues(self, k: int = 1, iterations: int = 30) -> np.ndarray:
        """The ``k`` largest (algebraic) eigenvalues, descending, from one Lanczos chain."""
        return self.lanczos(max(iterations, k), n_starts=1).top(k)

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
        self, iterations: int = 30, n_starts: int = 4, sigma: float = 0.01, n_bins: int = 80
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
        alphas = np.zeros((n, m))
        betas = np.zeros((n, m - 1))
        q = starts / starts.norm(dim=1, keepdim=True)
        tol = 100 * torch.finfo(self.dtype).eps
        for j in range(m):
            basis[:, j] = q
            w = self.hvp(q)  # a fresh tensor: updated in place below
            alpha = torch.linalg.vecdot(w, q)
            alphas[:, j] = alpha.double().cpu().numpy()
            if j == m - 1:
                break
            # The three-term recurrence, then one pass against the whole basis: in floating point
            # the recurrence alone loses orthogonality within a few steps (spurious eigenvalues).
            w.addcmul_(alpha.unsqueeze(1), q, value=-1)
            if j > 0:
                w.addcmul_(beta.unsqueeze(1), basis[:, j - 1], value=-1)
            _orthogonalise_(w, basis[:, : j + 1])
            beta = w.norm(dim=1)
            beta_np = beta.double().cpu().numpy()
            stalled = beta_np <= tol * np.maximum(np.abs(alphas[:, : j + 1]).max(axis=1), 1e-30)
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
        return alphas, betas

    def _gaussian(self, rows: int) -> torch.Tensor:
        return torch.randn(rows, self.n_params, generator=self._generator, device=self.device, dtype=self.dtype)


def _orthogonalise_(w: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """In place: remove from each row of ``w`` (n, p) its components along that chain's ``basis`` (n, j, p)."""
    # Two matrix-vector products a chain: a batched bmm of this shape runs several times slower.
    for c in range(w.shape[0]):
        w[c].addmv_(basis[c].T, basis[c].mv(w[c]), alpha=-1)
    return w
