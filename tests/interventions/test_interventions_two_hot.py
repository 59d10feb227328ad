"""Two-hot encodes any value in range and decodes it back exactly."""

import torch

from plastilab.interventions.two_hot import TwoHot


def test_round_trip_is_exact_for_values_in_range():
    codec = TwoHot(-3.0, 5.0, 17, dtype=torch.float64)
    y = torch.cat([torch.linspace(-3, 5, 1001, dtype=torch.float64), torch.rand(1000, dtype=torch.float64) * 8 - 3])
    probs = codec.encode(y)
    assert torch.allclose(probs.sum(-1), torch.ones_like(y))
    assert ((probs > 0).sum(-1) <= 2).all() and (probs >= 0).all()
    assert torch.allclose(codec.decode(probs), y, rtol=0, atol=1e-12)


def test_round_trip_in_float32_and_through_logits():
    codec = TwoHot(-1.0, 1.0, 11)
    y = torch.tensor([-1.0, -0.95, 0.0, 0.333, 0.9999, 1.0])
    assert torch.allclose(codec.decode(codec.encode(y)), y, atol=1e-6)
    assert torch.allclose(codec.decode_logits(codec.encode(y).log()), y, atol=1e-6)


def test_values_on_a_bin_are_one_hot_and_outside_are_clipped():
    codec = TwoHot(0.0, 4.0, 5)
    assert codec.encode(torch.tensor([2.0])).tolist() == [[0.0, 0.0, 1.0, 0.0, 0.0]]
    assert codec.decode(codec.encode(torch.tensor([-7.0, 9.0]))).tolist() == [0.0, 4.0]


def test_loss_is_smallest_at_the_target_distribution():
    codec = TwoHot(0.0, 1.0, 5)
    y = torch.tensor([0.3, 0.8])
    perfect = codec.encode(y).log().clamp_min(-30)
    assert codec.loss(perfect, y) < codec.loss(torch.zeros(2, 5), y)
