"""Continual backprop, TRAC and Parseval regularisation against independent numpy computations of
their defining equations, on tiny networks."""

import math

import numpy as np
import pytest
import torch

from plastilab.interventions.continual_backprop import ContinualBackprop
from plastilab.interventions.parseval import parseval_penalty
from plastilab.interventions.trac import BETAS, TRAC, erfi
from plastilab.models.factory import build_model

ETA = 0.9


def tiny_mlp(seed=0, hidden=(5,)):
    torch.manual_seed(seed)
    return build_model("mlp", (1, 2, 2), 3, hidden=hidden)


def numpy_cbp(model, batches, utility):
    """Ages, running means and utilities of the first hidden layer, from the equations alone."""
    w_in = model.body.fc1.weight.detach().double().numpy()
    b_in = model.body.fc1.bias.detach().double().numpy()
    w_out = model.head.weight.detach().double().numpy() if len(model.body) == 2 else model.body.fc2.weight.detach().double().numpy()
    n = len(b_in)
    age, f, u = np.zeros(n), np.zeros(n), np.zeros(n)
    for x in batches:
        h = np.maximum(x.reshape(len(x), -1).double().numpy() @ w_in.T + b_in, 0)
        age += 1
        f = ETA * f + (1 - ETA) * h.mean(0)
        f_hat = f / (1 - ETA**age)
        out_mag = np.abs(w_out).mean(0)
        if utility == "contribution":
            y = out_mag * np.abs(h).mean(0)
        else:
            y = out_mag * np.abs(h - f_hat).mean(0) / np.abs(w_in).mean(1)
        u = ETA * u + (1 - ETA) * y
    return age, f, u, u / (1 - ETA**age), f / (1 - ETA**age)


@pytest.mark.parametrize("utility", ["contribution", "adaptable_contribution"])
def test_continual_backprop_statistics_follow_the_equations(utility):
    model = tiny_mlp()
    cbp = ContinualBackprop(model, replacement_rate=0.0, decay=ETA, maturity=0, utility=utility)
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randn(7, 1, 2, 2, generator=gen) for _ in range(6)]
    for x in batches:
        model(x)
        assert cbp.step(None) == {}
    age, f, u, u_hat, f_hat = numpy_cbp(model, batches, utility)
    s = cbp.state["body.act1"]
    np.testing.assert_allclose(s["age"].numpy(), age)
    np.testing.assert_allclose(s["mean"].numpy(), f, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(s["utility"].numpy(), u, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cbp.unit_utility(cbp.layers[0]).numpy(), u_hat, rtol=1e-6, atol=1e-9)


def test_continual_backprop_ranks_by_the_bias_corrected_utility_not_the_raw_one():
    """A young unit has a small raw utility u = (1−η^a)·û; ranking by u would replace it, though
    its û is the largest. Ages 1 and 50, utilities chosen so the two rankings disagree."""
    model = tiny_mlp(hidden=(4,))
    cbp = ContinualBackprop(model, replacement_rate=0.25, decay=ETA, maturity=0, utility="contribution")
    layer = cbp.layers[0]
    with torch.no_grad():
        model.body.fc1.weight.zero_()
        model.body.fc1.bias.copy_(torch.tensor([0.3, 0.5, 0.8, 0.9]))  # constant activations
        model.head.weight.fill_(1.0)
    x = torch.zeros(3, 1, 2, 2)
    s = cbp.state[layer.name]
    s["age"][:] = torch.tensor([0.0, 49, 49, 49])  # unit 0 was just replaced
    s["utility"][:] = 0
    s["mean"][:] = 0
    model(x)
    out = model.head.weight.abs().mean(0).double()
    y = out * torch.tensor([0.3, 0.5, 0.8, 0.9], dtype=torch.float64)
    raw = (1 - ETA) * y
    corrected = raw / (1 - ETA ** torch.tensor([1.0, 50, 50, 50], dtype=torch.float64))
    assert int(raw.argmin()) == 0 and int(corrected.argmin()) != 0  # the rankings disagree
    before = model.body.fc1.bias.detach().clone()
    replaced = cbp.step(None)
    assert replaced == {layer.name: 1}
    chosen = int(corrected.argmin())
    assert model.body.fc1.bias[chosen] == 0  # the replaced unit: bias 0
    assert torch.equal(model.body.fc1.bias[[i for i in range(4) if i != chosen]], before[[i for i in range(4) if i != chosen]])


def test_replacement_rate_accumulates_across_steps_and_a_replacement_redraws_in_its_bound():
    model = tiny_mlp(hidden=(10,))
    cbp = ContinualBackprop(model, replacement_rate=0.03, decay=ETA, maturity=2, gain=math.sqrt(2))
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    x = torch.randn(8, 1, 2, 2)
    optimizer.zero_grad()
    model(x).square().mean().backward()
    optimizer.step()
    counts = []
    for _ in range(12):
        model(x)
        counts.append(sum(cbp.step(optimizer).values()))
    # The rule by hand: ages count steps, units older than 2 are eligible, r grows by 0.03 per
    # eligible unit, ⌊r⌋ of them (one here) are replaced and start again at age 0.
    ages, owed, expected = [0] * 10, 0.0, []
    for _ in range(12):
        ages = [a + 1 for a in ages]
        owed += 0.03 * sum(a > 2 for a in ages)
        n = int(owed)
        owed -= n
        for _ in range(n):
            ages[max(range(10), key=lambda i: (ages[i] > 2, -i))] = 0  # which one: by utility; the count matters
        expected.append(n)
    assert counts == expected and sum(counts) >= 2
    bound = math.sqrt(2) * math.sqrt(3 / 4)
    young = cbp.state["body.act1"]["age"] < 12
    # (A replaced unit's outgoing weights are 0, so without training in between its utility is 0
    # and, once mature again, it is the one replaced next: one unit here, replaced twice.)
    assert int(young.sum()) >= 1
    w = model.body.fc1.weight[young]
    assert (w.abs() <= bound).all()
    assert (model.body.fc1.bias[young] == 0).all()
    assert (model.head.weight[:, young] == 0).all()
    for moment in ("exp_avg", "exp_avg_sq"):
        assert (optimizer.state[model.body.fc1.weight][moment][young] == 0).all()
        assert (optimizer.state[model.head.weight][moment][:, young] == 0).all()
        assert (optimizer.state[model.body.fc1.weight][moment][~young] != 0).any()


def test_erfi_matches_its_definition():
    scipy_special = pytest.importorskip("scipy.special")
    for x in (-3.0, -0.5, 0.0, 1 / math.sqrt(2), 1.7, 4.0, 9.0):
        assert erfi(x) == pytest.approx(float(scipy_special.erfi(x)), rel=1e-12, abs=1e-15)


def numpy_trac(theta0, grad, lr, steps):
    scipy_special = pytest.importorskip("scipy.special")
    theta, ref, delta = theta0.copy(), theta0.copy(), np.zeros_like(theta0)
    v, sigma = np.zeros(len(BETAS)), np.zeros(len(BETAS))
    scales = []
    for _ in range(steps):
        g = grad(theta)
        h = float(delta @ g)
        delta = delta - lr * g  # SGD's update u = −lr·g
        betas = np.array(BETAS)
        v = betas**2 * v + h * h
        sigma = betas * sigma - h
        s = 1e-8 / scipy_special.erfi(1 / np.sqrt(2)) * scipy_special.erfi(sigma / (np.sqrt(2 * v) + 1e-8))
        scale = max(float(s.sum()), 0.0)
        theta = ref + scale * delta
        scales.append(scale)
    return theta, scales


def test_trac_scales_the_accumulated_updates_as_its_equations_say():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(20, 3, generator=gen, dtype=torch.float64), torch.randn(20, generator=gen, dtype=torch.float64)
    w = torch.nn.Parameter(torch.randn(3, generator=gen, dtype=torch.float64))
    theta0 = w.detach().numpy().copy()
    trac = TRAC(torch.optim.SGD([w], lr=0.05))
    scales = []
    for _ in range(40):
        trac.zero_grad()
        ((a @ w - b) ** 2).mean().backward()
        trac.step()
        scales.append(trac.scale)
    an, bn = a.numpy(), b.numpy()
    expected, expected_scales = numpy_trac(theta0, lambda t: 2 * an.T @ (an @ t - bn) / len(bn), 0.05, 40)
    np.testing.assert_allclose(scales, expected_scales, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
    assert expected_scales[0] == 0  # Δ = 0 at the first step: h = 0
    assert expected_scales[-1] > 100 * expected_scales[1] > 0  # agreeing steps grow S


def test_trac_keeps_an_in_place_edit_between_steps():
    w = torch.nn.Parameter(torch.ones(4))
    trac = TRAC(torch.optim.SGD([w], lr=0.1))
    for _ in range(3):
        trac.zero_grad()
        w.sum().backward()
        trac.step()
    with torch.no_grad():
        w[0] = 5.0  # a reset
    trac.zero_grad()
    w.sum().backward()
    trac.step()
    assert abs(float(w[0].detach()) - 5.0) < 1e-3  # moved by TRAC's small step only, not back to its old value


def test_parseval_penalty_and_its_gradient_match_the_equations():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 2, 3), 2, hidden=(4, 3))
    lam, scale = 0.3, 1.5
    penalty = parseval_penalty(model, lam, scale)
    penalty.backward()
    expected = 0.0
    for fc in (model.body.fc1, model.body.fc2):
        w = fc.weight.detach().double().numpy()
        m = w @ w.T - scale * np.eye(len(w))
        expected += lam * (m**2).sum()
        np.testing.assert_allclose(fc.weight.grad.double().numpy(), 4 * lam * m @ w, rtol=1e-5, atol=1e-6)
        assert fc.bias.grad is None
    assert model.head.weight.grad is None  # the head is not regularised
    assert float(penalty) == pytest.approx(expected, rel=1e-5)


def test_a_deep_copy_of_the_network_never_feeds_continual_backprop():
    # The probe trains a deep copy (hooks and all) with gradients on: its batch is not training's.
    import copy

    model = tiny_mlp()
    cbp = ContinualBackprop(model, replacement_rate=0.0, decay=ETA, maturity=0, utility="contribution")
    gen = torch.Generator().manual_seed(2)
    x, other = torch.randn(7, 1, 2, 2, generator=gen), torch.randn(7, 1, 2, 2, generator=gen) * 10
    model(x)
    recorded = {name: batch.clone() for name, batch in cbp._batch.items()}
    copy.deepcopy(model)(other)
    assert recorded and all(torch.equal(cbp._batch[name], batch) for name, batch in recorded.items())
