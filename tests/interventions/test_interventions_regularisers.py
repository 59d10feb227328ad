"""Weight decay, L2-Init and spectral normalisation."""

import torch

from plastilab.interventions.l2_init import L2Init
from plastilab.interventions.spectral_norm import apply_spectral_norm, largest_singular_values
from plastilab.interventions.weight_decay import apply_weight_decay
from plastilab.models.factory import build_model


def test_weight_decay_shrinks_by_lr_times_decay():
    p = torch.nn.Parameter(torch.tensor([2.0, -4.0]))
    apply_weight_decay([p], lr=0.1, weight_decay=0.5)
    assert torch.allclose(p, torch.tensor([1.9, -3.8]))


def test_l2_init_is_zero_at_init_and_grows_with_distance():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 4, 4), 2, hidden=(8,))
    reg = L2Init(model, coefficient=0.5)
    assert reg.penalty(model).item() == 0.0
    with torch.no_grad():
        model.head.bias.add_(torch.tensor([1.0, 2.0]))
    assert reg.penalty(model).item() == 0.5 * (1 + 4)
    reg.penalty(model).backward()
    assert torch.allclose(model.head.bias.grad, torch.tensor([1.0, 2.0]))  # pulls back toward θ₀


def test_spectral_norm_keeps_each_layers_largest_singular_value_at_one():
    torch.manual_seed(0)
    model = build_model("cnn", (1, 12, 12), 3, channels=(4, 8), hidden=16)
    names = apply_spectral_norm(model)
    assert "head" not in names and len(names) == 3
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.rand(16, 1, 12, 12), torch.randint(0, 3, (16,))
    for _ in range(30):  # each training forward refines the power iteration
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    # One power iteration per training forward: the estimate trails a fast-moving weight (more so
    # when its top two singular values are close), then settles.
    with torch.no_grad():
        for _ in range(25):
            model(x)
    sigmas = largest_singular_values(model)
    for name in names:
        assert abs(sigmas[name] - 1.0) < 0.01, (name, sigmas[name])
    assert abs(sigmas["head"] - 1.0) > 0.02  # left free
