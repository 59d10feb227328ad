"""Every instrument measures the network in the mode it is in (issue 15).

Three kinds of model, each against a plain-autograd reference (double backward, per-example
backward passes, an ordinary Adam loop) on the same function:

* batch norm in eval mode: normalises with its running statistics, which the instruments must
  copy, not drop (dropping them silently measured the train-mode network);
* layer norm, which has no running statistics and no mode;
* spectral norm in train mode: the instruments freeze its power iteration, so the reference is the
  same network with its parametrisation in eval mode (σ = uᵀWv with the vectors it has).

The originals' parameters and buffers must come back bit for bit.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from plastilab.instruments.functional import freeze_power_iterations
from plastilab.instruments.gradient_covariance import per_example_gradients
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.instruments.plasticity_probe import ADAM_BETAS, ADAM_EPS, ConfiguredProbe
from plastilab.instruments.schema import ProbeConfig


def eval_batch_norm() -> nn.Module:
    """Linear-BN-ReLU-Linear whose running statistics sit far from any one batch's."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    with torch.no_grad():
        for _ in range(5):  # running statistics of shifted, scaled inputs
            model(3 * torch.randn(32, 4, dtype=torch.float64) + 2)
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.5, 0.5)
    return model.eval()


def layer_norm() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Tanh(), nn.Linear(6, 3)).double()
    with torch.no_grad():
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.5, 0.5)
    return model


def spectral_norm() -> nn.Module:
    torch.manual_seed(0)
    first = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 6).double())
    model = nn.Sequential(first, nn.Tanh(), nn.Linear(6, 3).double())
    model(torch.randn(8, 4, dtype=torch.float64))  # a few power iterations in train mode
    return model


MODELS = {"eval_batch_norm": eval_batch_norm, "layer_norm": layer_norm, "spectral_norm": spectral_norm}


def reference(model: nn.Module) -> nn.Module:
    """The function the instruments must measure, computed by a plain copy of the model."""
    twin = copy.deepcopy(model)
    freeze_power_iterations(twin)
    return twin


def problem(n: int = 16):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 4, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_untouched(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), key


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_hessian_is_the_double_backward_hessian_of_the_model_in_its_mode(make):
    model = make()
    before = state_of(model)
    inputs, labels = problem()
    twin = reference(model)
    names = [name for name, p in twin.named_parameters()]
    shapes = [p.shape for p in twin.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in twin.parameters()])

    def loss(vector):
        params = {n: piece.reshape(s) for n, piece, s in zip(names, vector.split([s.numel() for s in shapes]), shapes)}
        return F.cross_entropy(functional_call(twin, params, (inputs,)), labels)

    dense = torch.autograd.functional.hessian(loss, flat)
    spectrum = HessianSpectrum(model, F.cross_entropy, (inputs, labels), seed=0)
    v = torch.randn(3, spectrum.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(spectrum.hvp(v), v @ dense, rtol=1e-9, atol=1e-12)
    exact = torch.linalg.eigvalsh(dense).numpy()
    np.testing.assert_allclose(spectrum.top_eigenvalues(2, iterations=40), exact[::-1][:2], rtol=1e-7)
    assert_untouched(model, before)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_per_example_gradients_are_one_backward_pass_per_example_in_the_models_mode(make):
    model = make()
    before = state_of(model)
    inputs, labels = problem(8)
    twin = reference(model)
    rows = []
    for x, y in zip(inputs, labels):
        loss = F.cross_entropy(twin(x[None]), y[None])
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(twin.parameters()))]))
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        assert not model.training  # one example alone: only an eval-mode batch norm can take it
    torch.testing.assert_close(
        per_example_gradients(model, F.cross_entropy, (inputs, labels)), torch.stack(rows), rtol=1e-9, atol=1e-12
    )
    assert_untouched(model, before)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_probe_trains_and_scores_the_network_in_its_mode(make):
    model = make()
    before = state_of(model)
    config = ProbeConfig(family="random_labels", n_targets=2, probe_steps=15, batch_size=8, n_examples=24, lr=1e-2)
    inputs = torch.randn(40, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    probe = ConfiguredProbe(inputs, config, seed=4)
    result = probe.measure(model)
    x, targets = probe._inputs, probe._targets
    batches = probe._batches(len(x), x.device)
    expected = []
    for target in targets:  # an ordinary probe: copy, fresh Adam, a plain loop, score
        twin = reference(model)
        optimiser = torch.optim.Adam(twin.parameters(), lr=config.lr, betas=ADAM_BETAS, eps=ADAM_EPS)
        for idx in batches:
            optimiser.zero_grad()
            F.cross_entropy(twin(x[idx]), target[idx]).backward()
            optimiser.step()
        with torch.no_grad():
            expected.append(float(F.cross_entropy(twin.eval()(x), target)))
    np.testing.assert_allclose(result.per_target, expected, rtol=1e-7)
    assert_untouched(model, before)
