"""The smaller methods, each against its equation: NaP's projection, ReGraMa's score, shrink-and-
perturb toward θ₀ and every N steps, coupled weight decay, layer and full resets, CReLU and
Fourier features, and the combinations the schema refuses."""

import numpy as np
import pytest
import torch

from plastilab.core.errors import ScenarioError
from plastilab.core.scenario_file import validate_scenario
from plastilab.interventions.layer_reset import full_reset, reset_last_layers
from plastilab.interventions.normalize_and_project import NormalizeAndProject
from plastilab.interventions.regrama import gradient_scores
from plastilab.interventions.shrink_and_perturb import shrink_and_perturb
from plastilab.interventions.weight_decay import coupled_weight_decay_penalty
from plastilab.models.concat_activations import CReLU, FourierFeatures
from plastilab.models.factory import build_model
from plastilab.models.units import unit_layers
from plastilab.interventions.plan import InterventionPlan
from plastilab.interventions.settings import InterventionSettings


def mlp(seed=0, **kw):
    torch.manual_seed(seed)
    return build_model("mlp", (1, 2, 3), 4, hidden=kw.pop("hidden", (5, 5)), **kw)


def test_nap_projects_every_weight_and_each_norm_affine_to_its_initial_norm():
    model = mlp(layer_norm=True)
    initial = {n: p.detach().clone() for n, p in model.named_parameters()}
    nap = NormalizeAndProject(model)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0).add_(0.1)
    nap.project(model)
    params = {n: p.detach() for n, p in model.named_parameters()}
    for name in ("body.fc1.weight", "body.fc2.weight", "head.weight"):
        assert float(params[name].norm()) == pytest.approx(float(initial[name].norm()), rel=1e-6)
        assert float(params[name].norm()) != pytest.approx(float((initial[name] * 3 + 0.1).norm()))
    for ln in ("body.ln1", "body.ln2"):
        joint = torch.cat([params[f"{ln}.weight"], params[f"{ln}.bias"]])
        assert float(joint.norm()) == pytest.approx(5**0.5, rel=1e-6)  # γ = 1, β = 0 at the start
    torch.testing.assert_close(params["body.fc1.bias"], initial["body.fc1.bias"] * 3 + 0.1)  # biases free


def test_nap_turns_layer_norm_on():
    assert InterventionPlan("nap", InterventionSettings(), 0).layer_norm


def test_regrama_score_is_the_mean_absolute_incoming_gradient_over_the_layer_mean():
    model = mlp()
    x = torch.randn(9, 1, 2, 3)
    model(x).square().mean().backward()
    scores = gradient_scores(unit_layers(model))
    for layer, fc in zip(unit_layers(model), (model.body.fc1, model.body.fc2)):
        g = np.abs(fc.weight.grad.double().numpy()).mean(axis=1)
        np.testing.assert_allclose(scores[layer.name].double().numpy(), g / (g.mean() + 1e-8), rtol=1e-6)


def test_shrink_and_perturb_toward_the_initial_weights_without_noise():
    model = mlp()
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    moved = {n: p.detach().clone() for n, p in model.named_parameters()}
    shrink_and_perturb(model, 0.25, 0.0, initial=start)
    for n, p in model.named_parameters():
        torch.testing.assert_close(p, 0.25 * moved[n] + 0.75 * start[n])


def test_shrink_and_perturb_every_n_steps_and_not_at_task_changes():
    settings = InterventionSettings.model_validate({"shrink_and_perturb": {"every_steps": 3, "shrink": 0.5, "noise_std": 0.0}})
    plan = InterventionPlan("shrink_and_perturb", settings, 0)
    model = mlp()
    plan.prepare(model)
    w = model.head.weight.detach().clone()
    for step, factor in ((1, 1.0), (2, 1.0), (3, 0.5), (4, 0.5), (6, 0.25)):
        plan.after_step(model, None, step, 1e-3, torch.zeros(1, 1, 2, 3))
        torch.testing.assert_close(model.head.weight, w * factor)
    plan.at_task_change(model, None, torch.zeros(1, 1, 2, 3))
    torch.testing.assert_close(model.head.weight, w * 0.25)


def test_coupled_weight_decay_adds_lambda_theta_to_the_gradient_and_decoupled_does_not():
    settings = InterventionSettings.model_validate({"weight_decay": {"coupled": True, "weight_decay": 0.3}})
    plan = InterventionPlan("weight_decay", settings, 0)
    model = mlp()
    penalty = plan.penalty(model)
    penalty.backward()
    for p in model.parameters():
        torch.testing.assert_close(p.grad, 0.3 * p.detach())
    before = model.head.weight.detach().clone()
    plan.after_step(model, None, 1, 0.1, torch.zeros(1, 1, 2, 3))
    assert torch.equal(model.head.weight, before)  # coupled: nothing after the step
    assert float(coupled_weight_decay_penalty(model.parameters(), 2.0)) == pytest.approx(
        float(sum(p.square().sum() for p in model.parameters())), rel=1e-6
    )


def test_reset_last_layers_renews_exactly_the_last_k_and_their_optimiser_state():
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    model(torch.randn(4, 1, 2, 3)).sum().backward()
    optimizer.step()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert reset_last_layers(model, optimizer, 2) == ["body.fc2", "head"]
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]) == n.startswith("body.fc1"), n
        assert (p in optimizer.state) == n.startswith("body.fc1"), n


def test_full_reset_copies_a_fresh_network_and_clears_the_optimiser():
    model = mlp(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    model(torch.randn(4, 1, 2, 3)).sum().backward()
    optimizer.step()
    fresh = mlp(seed=5)
    full_reset(model, optimizer, fresh)
    for (n, p), q in zip(model.named_parameters(), fresh.parameters()):
        assert torch.equal(p, q), n
    assert not optimizer.state


def test_full_reset_draws_a_new_network_each_time_without_moving_the_global_stream():
    plan = InterventionPlan("full_reset", InterventionSettings(), 0)
    model = mlp()
    plan.prepare(model, lambda: mlp(seed=int(torch.randint(0, 1000, (1,)))))
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    plan.at_task_change(model, None, torch.zeros(1, 1, 2, 3))
    first = model.head.weight.detach().clone()
    assert torch.equal(torch.rand(1), expected)
    plan.at_task_change(model, None, torch.zeros(1, 1, 2, 3))
    assert not torch.equal(model.head.weight, first)


def test_crelu_and_fourier_features_concatenate_two_values_per_unit():
    z = torch.tensor([[-1.0, 0.5], [2.0, -3.0]])
    a = z.numpy()
    np.testing.assert_allclose(CReLU()(z).numpy(), np.concatenate([np.maximum(a, 0), np.maximum(-a, 0)], axis=1))
    np.testing.assert_allclose(FourierFeatures()(z).numpy(), np.concatenate([np.sin(a), np.cos(a)], axis=1), rtol=1e-6)
    maps = torch.randn(2, 3, 4, 4)
    assert CReLU()(maps).shape == (2, 6, 4, 4)  # a conv map: channels doubled


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("activation", ["crelu", "dff"])
def test_the_layer_after_a_concatenating_activation_reads_twice_the_width(arch, activation):
    options = {"hidden": [6, 5]} if arch == "mlp" else {"channels": [3, 4], "hidden": 5}
    model = build_model(arch, (1, 8, 8), 2, activation=activation, **options)
    assert model.head.in_features == 10
    layers = unit_layers(model)
    assert all(layer.copies == 2 for layer in layers)
    if arch == "mlp":
        assert model.body.fc2.in_features == 12
    else:
        assert model.body.conv2.in_channels == 6


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"interventions": ["plasticity_injection+reset_last_layer"]}, "not both"),
        ({"interventions": ["crelu+dff"]}, "not both"),
        ({"interventions": ["crelu"], "architectures": ["vit"]}, "no activation option"),
    ],
)
def test_the_schema_refuses_combinations_that_cannot_work_in_one_line(grid, message):
    with pytest.raises(ScenarioError) as error:
        validate_scenario({"kind": "interventions", "name": "x", "grid": grid}, "bad.toml")
    text = str(error.value)
    assert "bad.toml" in text and "grid.interventions" in text and message in text and "\n" not in text


def test_the_memory_estimate_counts_what_trac_injection_and_full_reset_keep():
    from plastilab.core.memory_estimate import estimate

    def parts(interventions):
        config = validate_scenario(
            {"kind": "interventions", "name": "x", "grid": {"interventions": interventions}, "task": {"n_iterations": 5}}, "x.toml"
        )
        return {p.what: p.bytes for p in estimate(config)}

    plain = parts(["none"])
    more = parts(["trac", "plasticity_injection", "full_reset"])
    network = plain["mlp network with optimiser state"] // 5  # PARAM_COPIES copies of the parameters
    assert more["TRAC's reference, updates and previous parameters"] == 3 * network
    assert more["a fresh network for the full reset"] == network
    # 4 injections of two heads, each as wide as a CReLU layer reads, with the estimate's 51 outputs
    # (it sizes every output for two-hot's default bins)
    assert more["injected heads (frozen old and copy)"] == 2 * 4 * (2 * 256) * 51 * 4
    assert not set(plain) & {"TRAC's reference, updates and previous parameters", "a fresh network for the full reset"}


@pytest.mark.parametrize("bias", ["fresh", "zero"])
def test_redo_bias_rule_fresh_or_zero_as_dopamine(bias):
    from plastilab.interventions.redo import recycle_dormant_units

    model = mlp(hidden=(6,))
    with torch.no_grad():
        model.body.fc1.weight[[1, 4]] = 0
        model.body.fc1.bias[[1, 4]] = -1.0  # silent units
    recycled = recycle_dormant_units(model, None, torch.randn(20, 1, 2, 3), threshold=0.0, bias=bias)
    assert recycled == {"body.act1": 2}
    b = model.body.fc1.bias.detach()
    if bias == "zero":
        assert (b[[1, 4]] == 0).all()
    else:
        assert (b[[1, 4]] != 0).all() and (b[[1, 4]].abs() <= 1 / 6**0.5).all()  # PyTorch's U(±1/√fan_in)
