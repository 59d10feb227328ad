"""The probe reads right (issue 9): its scale-free loss says how well a network can fit something
new, whatever the scale of its outputs or of the targets.

A dead network (every first-layer ReLU off) can only move constants, so it predicts the best
constant: the targets' mean (regression) or the label frequencies (random labels). Its scale-free
loss is then about 1.0, and its plasticity loss is larger than a healthy network's. Five seeds;
margins from the spread measured over them (dead scale-free loss 0.95-1.05, gap to the healthy
network at least 0.35 on every seed).
"""

import copy

import pytest
import torch
import torch.nn.functional as F

from plastilab.instruments.plasticity_probe import ConfiguredProbe
from plastilab.instruments.schema import ProbeConfig
from plastilab.models.mlp import MLP

SEEDS = range(5)
FAMILIES = ["random_labels", "network_regression"]


def networks(seed: int):
    """θ_0, the same network after a few Adam steps (healthy), and that network with dead units."""
    torch.manual_seed(seed)
    at_init = MLP(8, [32, 32], 4)
    healthy = copy.deepcopy(at_init)
    optimiser = torch.optim.Adam(healthy.parameters(), lr=1e-2)
    x, y = torch.randn(64, 8), torch.randint(0, 4, (64,))
    for _ in range(20):
        optimiser.zero_grad()
        F.cross_entropy(healthy(x), y).backward()
        optimiser.step()
    dead = copy.deepcopy(healthy)
    with torch.no_grad():
        dead.body.fc1.bias.fill_(-100.0)  # no input reaches above zero: every first-layer unit is dead
    return at_init, healthy, dead


def probe_for(family: str, seed: int) -> ConfiguredProbe:
    inputs = torch.randn(96, 8, generator=torch.Generator().manual_seed(100 + seed))
    config = ProbeConfig(family=family, n_targets=3, probe_steps=100, batch_size=16, n_examples=48, lr=1e-2)
    return ConfiguredProbe(inputs, config, seed=seed)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_constant_predictor_scores_about_one_and_a_dead_network_scores_worse_than_a_healthy_one(family):
    gaps = []
    for seed in SEEDS:
        at_init, healthy, dead = networks(seed)
        probe = probe_for(family, seed)
        probe.set_baseline(at_init)
        h, d = probe.measure(healthy), probe.measure(dead)
        assert 0.9 < d.final_loss_scaled < 1.1, (seed, d.final_loss_scaled)
        assert d.initial_loss_scaled > 0.9  # a constant can do no better than the best constant
        gaps.append(d.plasticity_loss - h.plasticity_loss)
    assert min(gaps) > 0.2, gaps

