"""What an intervention plan does at a task change, on parameter values worked out independently:
shrink-and-perturb is θ ← λθ + σε with λ = `shrink` and σ = `noise_std` from the settings."""

import pytest
import torch
from torch import nn

from plastilab.interventions.plan import InterventionPlan
from plastilab.interventions.settings import InterventionSettings

SEED = 7


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_shrink_and_perturb_uses_shrink_as_the_factor_and_noise_std_as_the_noise_scale():
    settings = InterventionSettings.model_validate({"shrink_and_perturb": {"shrink": 0.6, "noise_std": 0.05}})
    model = small_model()
    before = [p.detach().clone() for p in model.parameters()]
    plan = InterventionPlan("shrink_and_perturb", settings, seed=SEED)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert plan.at_task_change(model, optimizer, torch.zeros(1, 3)) == {}
    noise = torch.Generator().manual_seed(SEED)
    for p, old in zip(model.parameters(), before):
        eps = torch.randn(old.shape, generator=noise)
        torch.testing.assert_close(p.detach(), 0.6 * old + 0.05 * eps)


def test_shrink_without_noise_only_scales():
    settings = InterventionSettings.model_validate({"shrink_and_perturb": {"shrink": 0.5, "noise_std": 0.0}})
    model = small_model()
    before = [p.detach().clone() for p in model.parameters()]
    InterventionPlan("shrink_and_perturb", settings, seed=SEED).at_task_change(
        model, torch.optim.SGD(model.parameters(), lr=0.1), torch.zeros(1, 3)
    )
    for p, old in zip(model.parameters(), before):
        assert torch.equal(p.detach(), old * 0.5)


def test_a_plan_without_the_intervention_leaves_the_parameters_alone():
    settings = InterventionSettings()
    model = small_model()
    before = [p.detach().clone() for p in model.parameters()]
    plan = InterventionPlan("none", settings, seed=SEED)
    assert plan.names == frozenset()
    plan.at_task_change(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.zeros(1, 3))
    assert all(torch.equal(p.detach(), old) for p, old in zip(model.parameters(), before))
