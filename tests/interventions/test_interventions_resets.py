"""The task-change interventions do exactly what they say on a small network."""

import math

import pytest
import torch

from plastilab.interventions.reset_last_layer import reset_last_layer
from plastilab.interventions.reset_optimizer import reset_optimizer_state
from plastilab.interventions.shrink_and_perturb import shrink_and_perturb
from plastilab.models.factory import build_model


def trained_mlp(steps=5):
    torch.manual_seed(0)
    model = build_model("mlp", (1, 4, 4), 3, hidden=(64, 64))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    x, y = torch.rand(32, 1, 4, 4), torch.randint(0, 3, (32,))
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model, optimizer, x, y


def test_reset_last_layer_restores_fresh_statistics_and_leaves_the_rest():
    model, optimizer, _, _ = trained_mlp()
    with torch.no_grad():
        model.head.weight.mul_(10).add_(1.0)  # far from anything an initialiser produces
    others = {n: p.detach().clone() for n, p in model.named_parameters() if not n.startswith("head.")}
    reset_last_layer(model, optimizer)

    bound = 1 / math.sqrt(model.head.in_features)  # PyTorch's Linear: U(-1/√fan_in, 1/√fan_in)
    w = model.head.weight
    assert w.abs().max() <= bound and model.head.bias.abs().max() <= bound
    assert abs(w.mean().item()) < 0.2 * bound
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    for name, p in model.named_parameters():
        if name in others:
            assert torch.equal(p, others[name]), name
    assert all(p not in optimizer.state for p in model.head.parameters())
    assert all(p in optimizer.state for n, p in model.named_parameters() if n in others)


def test_reset_optimizer_state_makes_the_next_step_a_first_step():
    model, optimizer, x, y = trained_mlp()
    reset_optimizer_state(optimizer)
    assert len(optimizer.state) == 0
    fresh = torch.optim.Adam(model.parameters(), lr=0.05)
    twin = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    optimizer.step()
    # A fresh Adam's first step is -lr·sign(g) (up to ε), whatever came before.
    for n, p in model.named_parameters():
        expected = twin[n] - 0.05 * grads[n] / (grads[n].abs() + 1e-8)
        assert torch.allclose(p, expected, atol=1e-6), n
    del fresh


def test_shrink_and_perturb_follows_its_formula():
    model, _, _, _ = trained_mlp()
    before = [p.detach().clone() for p in model.parameters()]
    shrink_and_perturb(model, shrink=0.8, noise_std=0.01, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    for b, p in zip(before, model.parameters()):
        expected = 0.8 * b + 0.01 * torch.randn(b.shape, generator=g)
        assert torch.allclose(p, expected, atol=1e-7)
