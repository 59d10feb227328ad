"""Weight, drift, gradient and update statistics on parameters set by hand."""

import math

import pytest
import torch

from plastilab.instruments.functional import snapshot_params
from plastilab.instruments.weight_stats import (
    distance_from_init,
    gradient_norms,
    layer_groups,
    update_ratios,
    weight_norms,
)
from plastilab.models.mlp import MLP


def constant_mlp(value: float) -> MLP:
    model = MLP(2, [3], 1)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
    return model


def test_layers_are_the_modules_that_own_parameters():
    assert layer_groups(MLP(2, [3, 3], 1, layer_norm=True)) == {
        "fc1": ["body.fc1.weight", "body.fc1.bias"],
        "ln1": ["body.ln1.weight", "body.ln1.bias"],
        "fc2": ["body.fc2.weight", "body.fc2.bias"],
        "ln2": ["body.ln2.weight", "body.ln2.bias"],
        "head": ["head.weight", "head.bias"],
    }


def test_norms_distance_and_update_ratio():
    model = constant_mlp(1.0)  # fc1: 6 + 3 entries, head: 3 + 1
    stats = weight_norms(model)
    assert stats["weights/norm/fc1"] == pytest.approx(3.0)
    assert stats["weights/norm/head"] == pytest.approx(2.0)
    assert stats["weights/norm"] == pytest.approx(math.sqrt(13))

    before = snapshot_params(model)
    with torch.no_grad():
        model.head.weight.add_(0.5)  # only the head moves: 3 entries by 0.5
    drift = distance_from_init(model, before)
    assert drift["weights/distance_from_init/fc1"] == 0.0
    assert drift["weights/distance_from_init/head"] == pytest.approx(math.sqrt(3) * 0.5)
    ratios = update_ratios(model, before)
    assert ratios["updates/ratio/head"] == pytest.approx(math.sqrt(3) * 0.5 / 2.0)
    assert ratios["updates/ratio"] == pytest.approx(math.sqrt(3) * 0.5 / math.sqrt(13))


def test_gradient_norms_read_grad_or_report_nothing():
    model = constant_mlp(1.0)
    assert gradient_norms(model) == {}
    for p in model.parameters():
        p.grad = torch.full_like(p, 2.0)
    stats = gradient_norms(model)
    assert stats["grads/norm/fc1"] == pytest.approx(6.0)
    assert stats["grads/norm"] == pytest.approx(2 * math.sqrt(13))


def test_norms_and_distance_of_parameter_mappings_worked_by_hand():
    head = torch.tensor([[1.0]])
    before = {"fc.weight": torch.tensor([[3.0, 4.0]]), "fc.bias": torch.tensor([0.0]), "head.weight": head}
    after = {"fc.weight": torch.tensor([[3.0, 5.0]]), "fc.bias": torch.tensor([2.0]), "head.weight": head}
    norms = weight_norms(before)
    assert norms["weights/norm/fc"] == pytest.approx(5.0)
    assert norms["weights/norm/head"] == pytest.approx(1.0)
    assert norms["weights/norm"] == pytest.approx(math.sqrt(26.0))
    distance = distance_from_init(after, before)
    assert distance["weights/distance_from_init/fc"] == pytest.approx(math.sqrt(1.0 + 4.0))
    assert distance["weights/distance_from_init/head"] == 0.0
    assert distance["weights/distance_from_init"] == pytest.approx(math.sqrt(5.0))
