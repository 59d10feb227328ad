"""Every step an intervention plan takes, checked on values worked out by hand: which names a
combination turns on, the model changes before training (spectral norm, L2-init's penalty), the
step after each update (decoupled weight decay, ReDo every k steps), each task-change step
(optimiser reset, last-layer reset, ReDo after shrink-and-perturb) and the checkpointed state."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from plastilab.models.mlp import MLP
from plastilab.interventions.plan import InterventionPlan
from plastilab.interventions.settings import InterventionSettings

PROBE = torch.ones(5, 3)


def settings(**sections) -> InterventionSettings:
    return InterventionSettings.model_validate(sections)


def mlp(hidden=(4,)) -> MLP:
    torch.manual_seed(0)
    return MLP(3, list(hidden), 2)


def sgd(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.1)


def adam_after_one_step(model: nn.Module) -> torch.optim.Optimizer:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(PROBE).pow(2).mean().backward()
    optimizer.step()
    return optimizer


def with_known_units(model: MLP) -> MLP:
    """On PROBE (all ones) the first layer's four ReLU units read 0, 1, 3, 3: mean 1.75, so their
    ReDo scores are 0, 1/1.75 = 0.571, 1.714, 1.714. A second layer (if any) reads 0, 6, 6, 6 from
    those (unit 0 of it silent): scores 0, 1.333, 1.333, 1.333."""
    with torch.no_grad():
        model.body.fc1.weight.copy_(torch.tensor([[-1.0] * 3, [1 / 3] * 3, [1.0] * 3, [1.0] * 3]))
        model.body.fc1.bias.copy_(torch.tensor([-1.0, 0.0, 0.0, 0.0]))
        if hasattr(model.body, "fc2"):
            model.body.fc2.weight.copy_(torch.tensor([[-1.0] * 4, [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]))
            model.body.fc2.bias.copy_(torch.tensor([-1.0, 0.0, 0.0, 0.0]))
    return model


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


# --- which interventions a combination names -------------------------------------------------


def test_a_combination_turns_on_exactly_its_names():
    plan = InterventionPlan("layer_norm+weight_decay+redo", settings(), seed=0)
    assert plan.names == frozenset({"layer_norm", "weight_decay", "redo"})
    assert plan.uses("weight_decay") and plan.uses("redo") and not plan.uses("l2_init")
    assert plan.layer_norm is True
    assert InterventionPlan("redo", settings(), seed=0).layer_norm is False
    assert InterventionPlan("none", settings(), seed=0).names == frozenset()


# --- before training -------------------------------------------------------------------------


@pytest.mark.parametrize("include_head", [False, True])
def test_spectral_norm_parametrises_the_body_and_the_head_only_if_asked(include_head):
    model = mlp()
    plan = InterventionPlan("spectral_norm", settings(spectral_norm={"include_head": include_head}), seed=0)
    plan.prepare(model)
    assert parametrize.is_parametrized(model.body.fc1, "weight")
    assert parametrize.is_parametrized(model.head, "weight") is include_head
    assert plan.l2_init is None and plan.penalty(model) is None


def test_without_spectral_norm_prepare_leaves_the_layers_plain():
    model = mlp()
    InterventionPlan("weight_decay", settings(), seed=0).prepare(model)
    assert not parametrize.is_parametrized(model.body.fc1, "weight")


def test_l2_init_penalty_is_the_coefficient_times_the_squared_distance_from_the_start():
    model = mlp()  # 3*4 + 4 + 4*2 + 2 = 26 parameters
    plan = InterventionPlan("l2_init", settings(l2_init={"coefficient": 0.01}), seed=0)
    plan.prepare(model)
    assert float(plan.penalty(model).detach()) == 0.0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)
    assert float(plan.penalty(model).detach()) == pytest.approx(0.01 * 26 * 0.25, rel=1e-6)


# --- after each step -------------------------------------------------------------------------


def test_weight_decay_after_a_step_scales_every_parameter_by_one_minus_lr_times_decay():
    model = mlp()
    before = params_of(model)
    plan = InterventionPlan("weight_decay", settings(weight_decay={"weight_decay": 0.1}), seed=0)
    assert plan.after_step(model, sgd(model), step=1, lr=0.5, probe=PROBE) == {}
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), before[name] * 0.95)


def test_a_step_without_weight_decay_leaves_the_parameters_alone():
    model = mlp()
    before = params_of(model)
    assert InterventionPlan("none", settings(), seed=0).after_step(model, sgd(model), step=1, lr=0.5, probe=PROBE) == {}
    assert all(torch.equal(p.detach(), before[n]) for n, p in model.named_parameters())


@pytest.mark.parametrize(("step", "recycles"), [(6, True), (3, True), (4, False), (5, False)])
def test_redo_after_a_step_runs_every_k_steps_only(step, recycles):
    model = with_known_units(mlp())
    plan = InterventionPlan("redo", settings(redo={"every_steps": 3, "threshold": 0.1}), seed=0)
    out = plan.after_step(model, sgd(model), step=step, lr=0.1, probe=PROBE)
    assert out == ({"redo/recycled_units": 1.0} if recycles else {})
    assert bool((model.head.weight[:, 0] == 0).all()) is recycles


@pytest.mark.parametrize("step", [0, 3])
def test_redo_every_zero_steps_never_runs_after_a_step(step):
    model = with_known_units(mlp())
    plan = InterventionPlan("redo", settings(redo={"every_steps": 0}), seed=0)
    assert plan.after_step(model, sgd(model), step=step, lr=0.1, probe=PROBE) == {}
    assert (model.head.weight[:, 0] != 0).all()


def test_redo_every_k_steps_is_off_unless_the_combination_has_redo():
    model = with_known_units(mlp())
    plan = InterventionPlan("weight_decay", settings(redo={"every_steps": 1}, weight_decay={"weight_decay": 0.0}), seed=0)
    assert plan.after_step(model, sgd(model), step=2, lr=0.1, probe=PROBE) == {}


# --- at a task change ------------------------------------------------------------------------


@pytest.mark.parametrize(("threshold", "recycled"), [(0.1, 1.0), (0.6, 2.0)])
def test_redo_at_a_task_change_uses_the_threshold_and_reports_the_count(threshold, recycled):
    model = with_known_units(mlp())
    plan = InterventionPlan("redo", settings(redo={"threshold": threshold}), seed=0)
    assert plan.at_task_change(model, sgd(model), PROBE) == {"redo/recycled_units": recycled}
    zeroed = (model.head.weight == 0).all(dim=0)
    assert zeroed.tolist() == [True, recycled == 2.0, False, False]


def moments_of_unit_1(model: MLP, optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Adam's moments for unit 1's incoming row and outgoing column (it is alive, so they are not 0)."""
    fc1, head = optimizer.state[model.body.fc1.weight], optimizer.state[model.head.weight]
    return [fc1[m][1] for m in ("exp_avg", "exp_avg_sq")] + [head[m][:, 1] for m in ("exp_avg", "exp_avg_sq")]


@pytest.mark.parametrize("when", ["after_step", "at_task_change"])
def test_redo_zeroes_the_optimizer_moments_of_the_units_it_recycles(when):
    model = with_known_units(mlp())
    optimizer = adam_after_one_step(model)
    assert all((m != 0).all() for m in moments_of_unit_1(model, optimizer))
    plan = InterventionPlan("redo", settings(redo={"threshold": 0.6, "every_steps": 1}), seed=0)
    if when == "after_step":
        out = plan.after_step(model, optimizer, step=1, lr=0.1, probe=PROBE)
    else:
        out = plan.at_task_change(model, optimizer, PROBE)
    assert out == {"redo/recycled_units": 2.0}
    assert all((m == 0).all() for m in moments_of_unit_1(model, optimizer))
    assert (optimizer.state[model.body.fc1.weight]["exp_avg"][2:] != 0).all()


def test_redo_counts_the_recycled_units_of_every_layer_together():
    model = with_known_units(mlp(hidden=(4, 4)))
    plan = InterventionPlan("redo", settings(redo={"threshold": 0.1}), seed=0)
    assert plan.at_task_change(model, sgd(model), PROBE) == {"redo/recycled_units": 2.0}


def test_reset_optimizer_forgets_every_moment_and_touches_no_weight():
    model = mlp()
    optimizer = adam_after_one_step(model)
    before = params_of(model)
    assert len(optimizer.state) == 4
    assert InterventionPlan("reset_optimizer", settings(), seed=0).at_task_change(model, optimizer, PROBE) == {}
    assert len(optimizer.state) == 0
    assert all(torch.equal(p.detach(), before[n]) for n, p in model.named_parameters())


def test_reset_last_layer_renews_the_head_and_its_moments_only():
    model = mlp()
    optimizer = adam_after_one_step(model)
    before = params_of(model)
    assert InterventionPlan("reset_last_layer", settings(), seed=0).at_task_change(model, optimizer, PROBE) == {}
    assert not torch.equal(model.head.weight.detach(), before["head.weight"])
    assert torch.equal(model.body.fc1.weight.detach(), before["body.fc1.weight"])
    assert model.head.weight not in optimizer.state and model.head.bias not in optimizer.state
    assert model.body.fc1.weight in optimizer.state


def test_a_task_change_without_resets_keeps_the_optimizer_state():
    model = mlp()
    optimizer = adam_after_one_step(model)
    before = params_of(model)
    plan = InterventionPlan("weight_decay+l2_init+spectral_norm", settings(), seed=0)
    assert plan.at_task_change(model, optimizer, PROBE) == {}
    assert len(optimizer.state) == 4
    assert all(torch.equal(p.detach(), before[n]) for n, p in model.named_parameters())


def test_redo_runs_after_shrink_and_perturb_so_a_recycled_units_outgoing_weights_stay_zero():
    # Were the noise added after ReDo, the dormant unit's head column would not be zero.
    model = with_known_units(mlp())
    plan = InterventionPlan(
        "shrink_and_perturb+redo", settings(shrink_and_perturb={"shrink": 0.5, "noise_std": 0.1}), seed=3
    )
    assert plan.at_task_change(model, sgd(model), PROBE) == {"redo/recycled_units": 1.0}
    assert (model.head.weight[:, 0] == 0).all()
    assert (model.head.weight[:, 1:] != 0).all()


# --- checkpoint ------------------------------------------------------------------------------


def test_the_noise_stream_resumes_from_a_checkpoint():
    config = settings(shrink_and_perturb={"shrink": 0.5, "noise_std": 0.1})
    first = InterventionPlan("shrink_and_perturb", config, seed=11)
    state = first.state_dict()
    assert state["l2_init"] is None
    resumed = InterventionPlan("shrink_and_perturb", config, seed=99)
    resumed.load_state_dict(state)
    a, b = mlp(), mlp()
    first.at_task_change(a, sgd(a), PROBE)
    resumed.at_task_change(b, sgd(b), PROBE)
    noise = torch.Generator().manual_seed(11)
    start = params_of(mlp())
    for name, p in b.named_parameters():
        torch.testing.assert_close(p.detach(), 0.5 * start[name] + 0.1 * torch.randn(start[name].shape, generator=noise))
        assert torch.equal(p.detach(), dict(a.named_parameters())[name].detach())


def test_l2_init_start_point_travels_in_the_checkpoint():
    config = settings(l2_init={"coefficient": 0.1})
    first_model = mlp()
    first = InterventionPlan("l2_init", config, seed=0)
    first.prepare(first_model)
    state = first.state_dict()
    assert set(state["l2_init"]) == {n for n, _ in first_model.named_parameters()}
    assert all(torch.equal(state["l2_init"][n], p.detach()) for n, p in first_model.named_parameters())

    other = MLP(3, [4], 2)
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    resumed = InterventionPlan("l2_init", config, seed=0)
    resumed.prepare(other)
    assert float(resumed.penalty(other).detach()) == 0.0
    resumed.load_state_dict(state)
    on_meta = InterventionPlan("l2_init", config, seed=0)
    on_meta.prepare(MLP(3, [4], 2))
    on_meta.load_state_dict(state, device="meta")
    assert {t.device.type for t in on_meta.l2_init.initial.values()} == {"meta"}
    by_hand = sum(float((p.detach() ** 2).sum()) for p in first_model.parameters())
    assert float(resumed.penalty(other).detach()) == pytest.approx(0.1 * by_hand, rel=1e-5)
