"""C-CHAIN's regulariser (Tang et al. 2025): its value and gradient against a closed form on a
linear Q-network, the reference being the network before the previous update, and λ's schedule."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plastilab.interventions.c_chain import CChain


def test_the_penalty_is_lambda_mse_against_the_network_before_the_previous_update_with_its_gradient():
    torch.manual_seed(0)
    net = nn.Linear(3, 2).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    chain = CChain(coefficient=50.0, warmup_updates=100)
    assert chain.penalty(net, x) is None  # the first update has no θ⁻
    w_prev, b_prev = net.weight.detach().clone(), net.bias.detach().clone()  # θ before update 1
    with torch.no_grad():  # "update 1"
        net.weight.add_(0.1)
        net.bias.sub_(0.2)
    chain.after_update(1.0)
    penalty = chain.penalty(net, x)  # update 2 regularises toward θ before update 1
    q, q_prev = x @ net.weight.T + net.bias, x @ w_prev.T + b_prev
    diff = (q - q_prev).detach()
    assert float(penalty.detach()) == pytest.approx(50.0 * float(diff.square().mean()), rel=1e-12)
    net.zero_grad()
    penalty.backward()
    n = diff.numel()  # d/dW λ·mean((xWᵀ + b − q⁻)²) = 2λ/n · diffᵀ x, d/db = 2λ/n · Σ_rows diff
    assert torch.allclose(net.weight.grad, 2 * 50.0 / n * diff.T @ x, rtol=1e-12)
    assert torch.allclose(net.bias.grad, 2 * 50.0 / n * diff.sum(dim=0), rtol=1e-12)


def test_lambda_adapts_to_a_fixed_share_of_the_td_loss_after_the_warmup():
    net = nn.Linear(2, 2)
    x = torch.randn(4, 2)
    chain = CChain(coefficient=50.0, warmup_updates=2, target_ratio=0.01, window=3)
    regs = []
    for td in (4.0, -2.0, 6.0, 8.0):
        if chain.updates < 2:
            assert chain.weight() == 50.0  # λ₀ during the warmup
        chain.penalty(net, x)
        with torch.no_grad():
            net.weight.add_(0.3)
        if chain.last_reg is not None:
            regs.append(float(chain.last_reg))
        chain.after_update(td)
    # after 4 updates (past the warmup): the last 3 |TD| values (2, 6, 8) and regulariser values
    expected = 0.01 * (2 + 6 + 8) / 3 / (sum(regs[-3:]) / 3 + 1e-8)
    assert chain.weight() == pytest.approx(expected, rel=1e-9)
