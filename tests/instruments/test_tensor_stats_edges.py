"""Unit statistics of plain tensors at their edges, every expected value written out by hand:
the shapes a tensor's units are read from, a silent layer's dormancy, a score exactly at τ, and
saturation exactly at each asymptote's margin (|tanh| >= 0.98; sigmoid <= 0.01 or >= 0.99).

Boundary values are float64 so that 0.98, 0.01 and 0.99 are the same numbers the thresholds are."""

import pytest
import torch

from plastilab.instruments.tensor_stats import (
    dead_mask,
    dormant_fraction,
    dormant_mask,
    dormant_scores,
    saturated_fraction,
    saturated_mask,
)


def f64(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


# --- which axis holds the units ----------------------------------------------------------------


def test_a_1d_tensor_is_one_unit_seen_on_each_sample():
    # One unit with samples 1, -1, 0: positive once, so not dead (three units would be 2 of 3 dead).
    assert dead_mask(torch.tensor([1.0, -1.0, 0.0])).tolist() == [False]


def test_a_3d_tensor_has_its_units_on_the_last_axis():
    preacts = -torch.ones(2, 3, 4)
    preacts[1, 2, 1] = 0.5  # unit 1, at one (batch, position)
    assert dead_mask(preacts).tolist() == [True, False, True, True]


# --- dormancy ----------------------------------------------------------------------------------


def test_a_silent_layer_scores_zero_everywhere_and_is_all_dormant():
    acts = torch.zeros(3, 4)
    assert dormant_scores(acts).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert dormant_fraction(acts, tau=0.0) == 1.0


def test_a_score_exactly_at_tau_is_dormant():
    acts = torch.tensor([[2.0, 0.0, 1.0, 1.0]])  # mean of means 1: scores 2, 0, 1, 1 exactly
    assert dormant_scores(acts).tolist() == [2.0, 0.0, 1.0, 1.0]
    assert dormant_mask(acts, tau=1.0).tolist() == [False, True, True, True]
    assert dormant_fraction(acts, tau=1.0) == 0.75


def test_dormant_fraction_uses_the_tau_it_is_given_and_redos_by_default():
    # means 100, 1, 3, 0 over a layer mean of 26: scores 3.85, 0.038, 0.115, 0
    acts = torch.tensor([[100.0, 1.0, 3.0, 0.0]])
    assert dormant_fraction(acts) == 0.25  # τ = 0.025: only the silent unit
    assert dormant_fraction(acts, tau=0.05) == 0.5
    assert dormant_fraction(acts, tau=0.2) == 0.75


# --- saturation --------------------------------------------------------------------------------


def test_tanh_saturation_starts_exactly_at_0_98_and_tanh_is_the_default():
    acts = f64([[0.98, -0.98, 0.975, 0.99], [-0.99, 0.98, 1.0, 0.975]])
    expected = [True, True, False, False]
    assert saturated_mask(acts).tolist() == expected
    assert saturated_mask(acts, "tanh").tolist() == expected
    assert saturated_fraction(acts) == 0.5
    assert saturated_fraction(acts, "tanh") == 0.5


def test_sigmoid_saturation_at_either_asymptote_exactly_at_the_margin():
    # unit 0: at the low margin; 1: at the high margin; 2: one sample at each asymptote (still
    # saturated: pinned on every sample); 3: 0.995 is near 1 but 4: 0.5 is not; 5: 0.011 is not.
    acts = f64([[0.01, 0.99, 0.0, 0.995, 0.995, 0.011], [0.005, 1.0, 1.0, 0.99, 0.5, 0.0]])
    assert saturated_mask(acts, "sigmoid").tolist() == [True, True, True, True, False, False]
    assert saturated_fraction(acts, "sigmoid") == pytest.approx(4 / 6)


def test_sigmoid_saturation_is_per_unit_over_every_sample():
    acts = f64([[0.0, 0.5], [0.0, 1.0], [1.0, 1.0]])  # unit 0 pinned; unit 1 not on sample 0
    assert saturated_mask(acts, "sigmoid").tolist() == [True, False]
    assert saturated_fraction(acts, "sigmoid") == 0.5


def test_the_two_activations_disagree_where_their_ranges_do():
    acts = f64([[0.0, 0.99]])  # 0: sigmoid's low asymptote, tanh's centre
    assert saturated_mask(acts, "sigmoid").tolist() == [True, True]
    assert saturated_mask(acts, "tanh").tolist() == [False, True]
