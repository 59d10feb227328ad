"""Invariants every intervention keeps, in every architecture it applies to:

* after it acts, the trainable parameters are exactly those the optimiser steps, and after one
  more step the optimiser holds state for exactly those (Plasticine's reset and injection build
  new heads the optimiser never sees: here that cannot happen);
* the function-preserving ones (ReDo, continual backprop, plasticity injection, ReGraMa) leave
  the network's outputs unchanged on the step they act.
"""

import pytest
import torch

from plastilab.interventions.continual_backprop import ContinualBackprop
from plastilab.interventions.optimizer_state import stepped_params
from plastilab.interventions.plasticity_injection import inject_plasticity
from plastilab.interventions.redo import recycle_dormant_units
from plastilab.interventions.regrama import recycle_gradient_dormant
from plastilab.models.factory import build_model
from plastilab.models.units import unit_layers
from plastilab.interventions.plan import InterventionPlan
from plastilab.interventions.settings import INTERVENTIONS, InterventionSettings

SHAPE = (1, 6, 6)
OPTIONS = {"mlp": {"hidden": [12, 12]}, "cnn": {"channels": [3, 4], "hidden": 8}}
# Every name but two_hot (a loss, not an edit of the network or optimiser) and none.
NAMES = [n for n in INTERVENTIONS if n not in ("none", "two_hot")]
# Periodic forms every step, so that after_step exercises each of them.
EVERY_STEP = {
    "shrink_and_perturb": {"every_steps": 1},
    "layer_reset": {"every_steps": 1, "last_layers": 2},
    "full_reset": {"every_steps": 1},
    "redo": {"every_steps": 1, "threshold": 0.5},
    "regrama": {"every_steps": 1, "threshold": 0.5},
    "continual_backprop": {"maturity": 0, "replacement_rate": 0.5},
}


def trained(plan, arch, optimizer_name="adam", steps=2):
    torch.manual_seed(0)
    options = dict(OPTIONS[arch])
    if plan.activation:
        options["activation"] = plan.activation

    def fresh():
        return build_model(arch, SHAPE, 3, layer_norm=plan.layer_norm, **options)

    model = fresh()
    plan.prepare(model, fresh)
    base = torch.optim.Adam(model.parameters(), 1e-2) if optimizer_name == "adam" else torch.optim.SGD(model.parameters(), 1e-2, momentum=0.9)
    optimizer = plan.wrap_optimizer(base)
    x = torch.randn(16, *SHAPE)
    for step in range(1, steps + 1):
        train_step(model, optimizer, plan, x)
        plan.after_step(model, optimizer, step, 1e-2, x)
    return model, optimizer, x


def train_step(model, optimizer, plan, x):
    optimizer.zero_grad(set_to_none=True)
    loss = model(x).square().mean()
    penalty = plan.penalty(model)
    (loss if penalty is None else loss + penalty).backward()
    optimizer.step()


def trainable(model):
    return {id(p) for p in model.parameters() if p.requires_grad}


@pytest.mark.parametrize("optimizer_name", ["adam", "sgd"])
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("name", NAMES)
def test_after_every_intervention_the_optimiser_steps_exactly_the_trainable_parameters(name, arch, optimizer_name):
    settings = InterventionSettings.model_validate({name: EVERY_STEP[name]} if name in EVERY_STEP else {})
    plan = InterventionPlan(name, settings, seed=0)
    model, optimizer, x = trained(plan, arch, optimizer_name)
    for _ in range(2):  # twice: a second injection wraps the first
        plan.at_task_change(model, optimizer, x)
        assert trainable(model) == stepped_params(optimizer), name
        train_step(model, optimizer, plan, x)
        plan.after_step(model, optimizer, 3, 1e-2, x)
        assert trainable(model) == stepped_params(optimizer), name
        train_step(model, optimizer, plan, x)
        state = {id(p) for p, s in optimizer.state.items() if s}
        assert state == trainable(model), name


def test_injection_trains_the_fresh_head_and_leaves_the_frozen_ones_alone():
    torch.manual_seed(0)
    model = build_model("mlp", SHAPE, 3, hidden=[12])
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    x = torch.randn(16, *SHAPE)
    head = inject_plasticity(model, optimizer)
    fresh, old, copy = (m.weight.detach().clone() for m in (head.fresh, head.old, head.copy))
    train_step(model, optimizer, InterventionPlan("none", InterventionSettings(), 0), x)
    assert not torch.equal(head.fresh.weight, fresh)
    assert torch.equal(head.old.weight, old) and torch.equal(head.copy.weight, copy)


def model_and_adam(arch="mlp", activation="relu", seed=0):
    torch.manual_seed(seed)
    options = dict(OPTIONS[arch], activation=activation)
    model = build_model(arch, SHAPE, 3, **options)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    x = torch.randn(32, *SHAPE)
    for _ in range(3):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
    return model, optimizer, x


def silence_units(model, units=(0, 2), bias=-1.0):
    """Units that never fire on any input: incoming weights 0, bias −1 (constant activation 0;
    for CReLU bias 0, so that both relu(z) and relu(−z) are 0)."""
    with torch.no_grad():
        fc = model.body.fc1 if hasattr(model.body, "fc1") else model.body.conv1
        fc.weight[list(units)] = 0
        fc.bias[list(units)] = bias


@pytest.mark.parametrize("activation", ["relu", "crelu"])
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_redo_and_injection_leave_the_outputs_unchanged(arch, activation):
    model, optimizer, x = model_and_adam(arch, activation)
    silence_units(model, bias=-1.0 if activation == "relu" else 0.0)
    before = model(x).detach()
    recycled = recycle_dormant_units(model, optimizer, x, threshold=0.0)
    assert sum(recycled.values()) > 0
    torch.testing.assert_close(model(x).detach(), before, atol=1e-6, rtol=0)
    inject_plasticity(model, optimizer)
    inject_plasticity(model, optimizer)
    torch.testing.assert_close(model(x).detach(), before, atol=1e-6, rtol=0)


@pytest.mark.parametrize("arch, index", [("mlp", 0), ("mlp", 1), ("cnn", 1), ("cnn", 2)])
def test_continual_backprop_leaves_the_outputs_unchanged_when_it_replaces_constant_units(arch, index):
    """A unit with a constant activation c contributes w_out·c; continual backprop moves exactly
    w_out·f̂ into the next bias, and f̂ of a constant is c: the output cannot move. (Into a
    following padded conv the move is exact away from the borders only, so the CNN's checked
    layers are those read by a Linear.)"""
    model, optimizer, x = model_and_adam(arch)
    layer = unit_layers(model)[index]
    fc = layer.incoming
    with torch.no_grad():  # units 0 and 2 constant: incoming weights 0, bias 0.7 (relu(0.7) = 0.7)
        fc.weight[[0, 2]] = 0
        fc.bias[[0, 2]] = 0.7
    first = [layer]
    with torch.no_grad():
        seen = {}
        handle = layer.probe.register_forward_hook(lambda m, i, o: seen.update(h=o))
        model(x)
        handle.remove()
        h = seen["h"].movedim(layer.unit_dim, -1).reshape(-1, len(fc.bias))
        constant = (h == h[:1]).all(dim=0)  # dead (always 0) or one of the two constant units
    cbp = ContinualBackprop(model, replacement_rate=2 / len(fc.bias), maturity=3, decay=0.9, layers=first)
    incoming_before = fc.weight.detach().clone()
    for _ in range(6):
        model(x)  # the training forward the hooks record
        before = model(x).detach()
        replaced = cbp.step(optimizer)
        if replaced:
            break
    assert replaced == {first[0].name: 2}
    torch.testing.assert_close(model(x).detach(), before, atol=1e-6, rtol=0)
    changed = (fc.weight != incoming_before).flatten(1).any(dim=1)
    assert changed.sum() == 2 and constant[changed].all()  # units of utility ≈ 0: constant or dead


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_regrama_leaves_the_outputs_unchanged(arch):
    model, optimizer, x = model_and_adam(arch)
    silence_units(model)  # dead units: zero incoming gradient
    optimizer.zero_grad()
    model(x).square().mean().backward()
    before = model(x).detach()
    recycled = recycle_gradient_dormant(model, optimizer, threshold=0.0)
    assert recycled[next(iter(recycled))] >= 2
    torch.testing.assert_close(model(x).detach(), before, atol=1e-6, rtol=0)
