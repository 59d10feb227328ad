"""A categorical output for a scalar target, trained through a two-hot encoding over fixed bins.

A value y between bins b_i ≤ y ≤ b_{i+1} becomes probability (b_{i+1} − y)/Δ on b_i and
(y − b_i)/Δ on b_{i+1}; its expectation over the bins is y again, so decoding is exact for any
y in [low, high]. Values outside are clipped to the range. The network predicts logits over
the bins; the loss is the cross-entropy to the two-hot target, and the scalar the user sees is
the expectation of the predicted distribution.
"""

from __future__ import annotations

import torch


class TwoHot:
    def __init__(self, low: float, high: float, n_bins: int, dtype: torch.dtype = torch.float32) -> None:
        if not high > low or n_bins < 2:
            raise ValueError(f"two-hot: need low < high and at least 2 bins; found [{low}, {high}], {n_bins}")
        self.low, self.high, self.n_bins = low, high, n_bins
        self.bins = torch.linspace(low, high, n_bins, dtype=dtype)
        self._placed: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    def _bins(self, like: torch.Tensor) -> torch.Tensor:
        """The bins on ``like``'s device and dtype, copied there once (not a copy every step)."""
        key = (like.device, like.dtype)
        if key not in self._placed:
            self._placed[key] = self.bins.to(like.device, like.dtype)
        return self._placed[key]

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        """(...,) values -> (..., n_bins) probabilities with at most two non-zero entries."""
        bins = self._bins(y)
        y = y.clamp(self.low, self.high)
        # The bin at or below y; the last bin's left neighbour for y == high.
        lower = (torch.searchsorted(bins, y.contiguous(), right=True) - 1).clamp(0, self.n_bins - 2)
        left, right = bins[lower], bins[lower + 1]
        upper_weight = (y - left) / (right - left)
        probs = torch.zeros(*y.shape, self.n_bins, dtype=y.dtype, device=y.device)
        probs.scatter_(-1, lower.unsqueeze(-1), (1 - upper_weight).unsqueeze(-1))
        probs.scatter_add_(-1, (lower + 1).unsqueeze(-1), upper_weight.unsqueeze(-1))
        return probs

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        """(..., n_bins) probabilities -> (...,) their expectation over the bins."""
        return probs @ self._bins(probs)

    def decode_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.softmax(logits, dim=-1))

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy between softmax(logits) (..., n_bins) and the two-hot of y (...)."""
        target = self.encode(y.to(logits.dtype))
        return -(target * torch.log_softmax(logits, dim=-1)).sum(-1).mean()
