"""Two-hot's edges: which bin ranges it refuses, and a float64 round trip exact to float64 precision
(a float32 copy of the bins anywhere on the way loses ~1e-8)."""

import pytest
import torch

from plastilab.interventions.two_hot import TwoHot


@pytest.mark.parametrize("low, high, n_bins", [(1.0, 1.0, 5), (2.0, 1.0, 5), (0.0, 1.0, 1)])
def test_an_empty_range_or_a_single_bin_is_refused_with_its_values(low, high, n_bins):
    with pytest.raises(ValueError, match=rf"need low < high and at least 2 bins; found \[{low}, {high}\], {n_bins}"):
        TwoHot(low, high, n_bins)


def test_two_bins_are_enough():
    two_hot = TwoHot(0.0, 1.0, 2)
    assert two_hot.encode(torch.tensor([0.25])).tolist() == [[0.75, 0.25]]


def test_a_float64_round_trip_keeps_float64_precision():
    two_hot = TwoHot(-1.0, 1.0, 21, dtype=torch.float64)
    assert two_hot.bins.dtype == torch.float64
    y = torch.tensor([0.1, -0.37, 0.123456789, 1.0, -1.0], dtype=torch.float64)
    probs = two_hot.encode(y)
    assert probs.dtype == torch.float64
    assert (two_hot.decode(probs) - y).abs().max() < 1e-12
    torch.testing.assert_close(probs.sum(-1), torch.ones(5, dtype=torch.float64), atol=1e-15, rtol=0)
