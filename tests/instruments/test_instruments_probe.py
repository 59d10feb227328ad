"""The plasticity probe: leaves training alone, repeats itself exactly, and trains like Adam."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from plastilab.instruments.plasticity_probe import ConfiguredProbe
from plastilab.instruments.schema import ProbeConfig
from plastilab.instruments.stacked_forward import _direct_mlp, _vmapped
from plastilab.models.mlp import MLP


def trained_pair(dropout: bool = False):
    """A small MLP after a few Adam steps, with its optimiser (state and .grad populated)."""
    torch.manual_seed(0)
    model = MLP(6, [16, 16], 4)
    if dropout:
        model.body.add_module("drop", torch.nn.Dropout(0.2))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, labels = torch.randn(64, 6), torch.randint(0, 4, (64,))
    for _ in range(3):
        optimiser.zero_grad()
        F.cross_entropy(model(inputs), labels).backward()
        optimiser.step()
    return model, optimiser, inputs


def config(**overrides) -> ProbeConfig:
    small = {"n_targets": 3, "probe_steps": 20, "batch_size": 16, "n_examples": 48, "lr": 1e-2}
    return ProbeConfig(**small | overrides)


@pytest.mark.parametrize("family", ["network_regression", "high_frequency", "random_labels"])
def test_probe_leaves_network_optimiser_and_global_rng_bit_for_bit(family):
    model, optimiser, inputs = trained_pair(dropout=True)
    params = copy.deepcopy(model.state_dict())
    grads = [p.grad.clone() for p in model.parameters()]
    opt_state = copy.deepcopy(optimiser.state_dict())
    rng = torch.get_rng_state()

    result = ConfiguredProbe(inputs, config(family=family), seed=1).measure(model)

    assert torch.equal(torch.get_rng_state(), rng)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, params[name]), name
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    after = optimiser.state_dict()
    assert after["param_groups"] == opt_state["param_groups"]
    for key, state in opt_state["state"].items():
        for field, value in state.items():
            assert torch.equal(after["state"][key][field], value)
    assert model.training
    assert result.curve.shape == (20,) and result.per_target.shape == (3,)
    assert np.isfinite(result.final_loss) and result.plasticity_loss is None


def test_same_targets_and_batches_every_time_so_plasticity_loss_is_a_difference():
    model, _, inputs = trained_pair()
    at_init = MLP(6, [16, 16], 4)
    probe = ConfiguredProbe(inputs, config(), seed=2)
    baseline = probe.set_baseline(at_init)
    assert baseline.plasticity_loss == 0.0
    first, again = probe.measure(model), probe.measure(model)
    assert first.final_loss == again.final_loss
    np.testing.assert_array_equal(first.curve, again.curve)
    assert first.plasticity_loss == pytest.approx(first.final_loss_scaled - baseline.final_loss_scaled)
    assert first.plasticity_loss_raw == pytest.approx(first.final_loss - baseline.final_loss)
    again_at_init = probe.measure(at_init)
    assert again_at_init.plasticity_loss == 0.0 and again_at_init.plasticity_loss_raw == 0.0


def test_random_labels_are_learned_and_high_frequency_targets_are_offset_sines():
    model, _, inputs = trained_pair()
    labels = ConfiguredProbe(inputs, config(family="random_labels", probe_steps=150, lr=3e-2), seed=0).measure(model)
    assert labels.curve[0] > labels.final_loss and labels.final_loss < 0.5 * np.log(4)

    probe = ConfiguredProbe(inputs, config(family="high_frequency", offset=2.0), seed=0)
    probe.measure(model)
    assert probe._targets.shape == (3, 48, 4)
    assert probe._targets.min() >= 1.0 and probe._targets.max() <= 3.0


def test_k_stacked_copies_train_exactly_like_k_adam_loops():
    model, _, inputs = trained_pair()
    probe = ConfiguredProbe(inputs, config(probe_steps=10), seed=4)
    result = probe.measure(model)
    x, targets = probe._inputs, probe._targets
    batches = probe._batches(len(x), x.device)
    for k in range(3):
        twin = copy.deepcopy(model)
        optimiser = torch.optim.Adam(twin.parameters(), lr=1e-2)
        for idx in batches:
            optimiser.zero_grad()
            F.mse_loss(twin(x[idx]), targets[k, idx]).backward()
            optimiser.step()
        with torch.no_grad():
            loss = F.mse_loss(twin(x), targets[k])
        assert result.per_target[k] == pytest.approx(float(loss), rel=1e-4)


def test_each_targets_curve_is_that_copys_training_loss_and_the_curve_their_mean():
    model, _, inputs = trained_pair()
    probe = ConfiguredProbe(inputs, config(probe_steps=10), seed=4)
    result = probe.measure(model)
    assert result.target_curves.shape == (3, 10)
    np.testing.assert_allclose(result.target_curves.mean(axis=0), result.curve, rtol=1e-5)
    x, targets = probe._inputs, probe._targets
    batches = probe._batches(len(x), x.device)
    for k in range(3):
        twin = copy.deepcopy(model)
        optimiser = torch.optim.Adam(twin.parameters(), lr=1e-2)
        losses = []
        for idx in batches:
            optimiser.zero_grad()
            loss = F.mse_loss(twin(x[idx]), targets[k, idx])
            losses.append(float(loss))
            loss.backward()
            optimiser.step()
        np.testing.assert_allclose(result.target_curves[k], losses, rtol=1e-4)


def test_a_loss_that_does_not_fit_the_family_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        ConfiguredProbe(torch.zeros(4, 2), config(), loss_kind="cross_entropy")


def test_spectral_norm_models_train_in_the_probe_and_need_a_target_factory():
    def build():
        return nn.Sequential(spectral_norm(nn.Linear(6, 16)), nn.ReLU(), spectral_norm(nn.Linear(16, 4)))

    torch.manual_seed(0)
    model, inputs = build(), torch.randn(48, 6)
    with pytest.raises(ValueError, match="target_model"):
        ConfiguredProbe(inputs, config(), seed=0).measure(model)
    regression = ConfiguredProbe(inputs, config(), seed=0, target_model=build).measure(model)
    labels = ConfiguredProbe(inputs, config(family="random_labels"), seed=0).measure(model)
    assert np.isfinite(regression.final_loss) and regression.final_loss < regression.curve[0]
    assert np.isfinite(labels.final_loss)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_the_direct_stacked_mlp_gives_the_numbers_of_the_general_vmapped_path(layer_norm):
    torch.manual_seed(0)
    model = MLP(6, [16, 16], 4, layer_norm=layer_norm)
    params = {n: torch.randn(3, *p.shape) for n, p in model.named_parameters()}
    x = torch.randn(10, 6)
    direct = _direct_mlp(model)
    assert direct is not None
    torch.testing.assert_close(direct(params, x), _vmapped(model)(params, x), rtol=1e-5, atol=1e-6)

    # A forward hook must see every call, so a hooked network takes the general path: same numbers.
    inputs = torch.randn(64, 6)
    plain = ConfiguredProbe(inputs, config(family="random_labels"), seed=5).measure(model)
    model.body.act1.register_forward_hook(lambda *args: None)
    assert _direct_mlp(model) is None
    hooked = ConfiguredProbe(inputs, config(family="random_labels"), seed=5).measure(model)
    np.testing.assert_allclose(hooked.per_target, plain.per_target, rtol=1e-4)
    np.testing.assert_allclose(hooked.curve, plain.curve, rtol=1e-4)
