"""The Hessian instrument against the dense Hessian of tiny networks (float64, exact to roundoff)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from plastilab.instruments.hessian_products import METHODS, forget_choices
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.models.mlp import MLP

LOSSES = {
    "cross_entropy": (F.cross_entropy, lambda g, n: torch.randint(0, 3, (n,), generator=g)),
    "mse": (F.mse_loss, lambda g, n: torch.randn(n, 3, generator=g, dtype=torch.float64)),
    # huber_loss's backward has no forward-mode rule: the instrument falls back to vjp of grad.
    "huber": (F.huber_loss, lambda g, n: torch.randn(n, 3, generator=g, dtype=torch.float64)),
}


def tiny_problem(layer_norm: bool, loss: str, n: int = 16):
    torch.manual_seed(0)
    model = MLP(4, [6, 5], 3, layer_norm=layer_norm).double()
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(n, 4, generator=g, dtype=torch.float64)
    loss_fn, make_targets = LOSSES[loss]
    return model, loss_fn, (inputs, make_targets(g, n))


def dense_hessian(model, loss_fn, batch) -> torch.Tensor:
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(vector):
        pieces = vector.split([s.numel() for s in shapes])
        params = {name: piece.reshape(shape) for name, piece, shape in zip(names, pieces, shapes)}
        return loss_fn(functional_call(model, params, (batch[0],)), batch[1])

    return torch.autograd.functional.hessian(loss, flat)


CASES = [(layer_norm, loss) for layer_norm in (False, True) for loss in LOSSES]


@pytest.fixture(scope="module", params=CASES, ids=lambda case: f"ln={case[0]}-{case[1]}")
def case(request):
    model, loss_fn, batch = tiny_problem(*request.param)
    hessian = dense_hessian(model, loss_fn, batch)
    return HessianSpectrum(model, loss_fn, batch, seed=3), hessian, torch.linalg.eigvalsh(hessian).numpy()


def test_hvp_matches_the_dense_hessian_one_and_many(case):
    spectrum, hessian, _ = case
    v = torch.randn(3, spectrum.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(spectrum.hvp(v[0]), hessian @ v[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(spectrum.hvp(v), v @ hessian, rtol=1e-9, atol=1e-12)


def test_top_eigenvalues_match_eigvalsh(case):
    spectrum, _, eigenvalues = case
    top = spectrum.top_eigenvalues(3, iterations=40)
    np.testing.assert_allclose(top, eigenvalues[::-1][:3], rtol=1e-6)


def test_smallest_eigenvalues_match_eigvalsh_and_products_work_under_no_grad(case):
    spectrum, hessian, eigenvalues = case
    np.testing.assert_allclose(spectrum.smallest_eigenvalues(2, iterations=40), eigenvalues[:2], rtol=1e-6, atol=1e-9)
    v = torch.ones(spectrum.n_params, dtype=torch.float64)
    with torch.no_grad():  # a training loop may call the instruments inside no_grad
        torch.testing.assert_close(spectrum.hvp(v), hessian @ v, rtol=1e-9, atol=1e-12)


def test_quadrature_moments_are_exact_from_a_basis_and_close_from_random_starts(case):
    spectrum, _, eigenvalues = case
    exact = spectrum.lanczos(8, starts=torch.eye(spectrum.n_params, dtype=torch.float64))
    for power in (1, 2, 3):
        np.testing.assert_allclose(exact.moment(power), (eigenvalues**power).mean(), rtol=1e-8, atol=1e-12)
    assert np.allclose(exact.weights.sum(axis=1), 1.0)
    # Random starts: within four standard errors of the chains' spread.
    random = spectrum.lanczos(8, n_starts=300)
    for power in (1, 2):
        per_chain = (random.weights * random.nodes**power).sum(axis=1)
        error = abs(per_chain.mean() - (eigenvalues**power).mean())
        assert error <= 4 * per_chain.std() / np.sqrt(len(per_chain)) + 1e-12


def test_density_histogram_keeps_the_mass_and_the_mean(case):
    spectrum, _, eigenvalues = case
    quadrature = spectrum.lanczos(8, starts=torch.eye(spectrum.n_params, dtype=torch.float64))
    fractions, edges = quadrature.density(sigma=0.01, n_bins=200)
    assert fractions.shape == (200,) and edges.shape == (201,)
    assert fractions.min() >= 0 and fractions.sum() == pytest.approx(1.0)
    centres = (edges[1:] + edges[:-1]) / 2
    assert (fractions * centres).sum() == pytest.approx(eigenvalues.mean(), abs=np.diff(edges).max())
    assert np.all(np.diff(edges) > 0)
    assert edges[0] <= eigenvalues.min() and edges[-1] >= eigenvalues.max()


def test_trace_error_shrinks_with_more_samples():
    model, loss_fn, batch = tiny_problem(False, "mse")
    exact = float(torch.trace(dense_hessian(model, loss_fn, batch)))
    errors = {}
    for n in (4, 256):
        errors[n] = np.mean([abs(HessianSpectrum(model, loss_fn, batch, seed=s).trace(n) - exact) for s in range(12)])
    assert errors[256] < errors[4] / 3  # Monte Carlo: about 8x smaller on average


def test_train_mode_batch_norm_and_dropout_leave_model_and_rng_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 3)).double()
    inputs, labels = torch.randn(12, 4, dtype=torch.float64), torch.randint(0, 3, (12,))
    running = model[1].running_mean.clone()
    spectrum = HessianSpectrum(model, F.cross_entropy, (inputs, labels))
    u, v = torch.randn(2, spectrum.n_params, dtype=torch.float64)
    state = torch.get_rng_state()
    # A frozen dropout mask makes the operator a fixed symmetric matrix.
    assert float(u @ spectrum.hvp(v)) == pytest.approx(float(v @ spectrum.hvp(u)), rel=1e-9)
    assert spectrum.top_eigenvalues(1, iterations=10)[0] > 0
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(model[1].running_mean, running) and model.training


def test_a_td_loss_with_tuple_targets():
    torch.manual_seed(0)
    model = MLP(4, [5], 3).double()
    inputs = torch.randn(10, 4, dtype=torch.float64)
    actions, td_targets = torch.randint(0, 3, (10,)), torch.randn(10, dtype=torch.float64)

    def td_loss(q, targets):
        taken = q.gather(1, targets[0].unsqueeze(1)).squeeze(1)
        return F.smooth_l1_loss(taken, targets[1])

    batch = (inputs, (actions, td_targets))
    spectrum = HessianSpectrum(model, td_loss, batch)
    hessian = dense_hessian(model, td_loss, batch)
    top = spectrum.top_eigenvalues(1, iterations=20)[0]
    assert top == pytest.approx(float(torch.linalg.eigvalsh(hessian)[-1]), rel=1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_every_way_of_computing_products_gives_the_dense_hessian(method, loss):
    model, loss_fn, batch = tiny_problem(False, loss)
    hessian = dense_hessian(model, loss_fn, batch)
    spectrum = HessianSpectrum(model, loss_fn, batch, method=method)
    v = torch.randn(4, spectrum.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(spectrum.hvp(v), v @ hessian, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(spectrum.hvp(v[0]), hessian @ v[0], rtol=1e-9, atol=1e-12)
    # huber_loss's backward has no forward-mode rule: forward over reverse falls back.
    expected = "reverse-over-reverse" if (loss, method) == ("huber", "forward-over-reverse") else method
    assert spectrum.method == expected or (method == "reverse-over-reverse, batched" and spectrum.method == "reverse-over-reverse")
    spectrum.release()
    torch.testing.assert_close(spectrum.hvp(v[1]), hessian @ v[1], rtol=1e-9, atol=1e-12)  # rebuilt


def test_the_fastest_way_is_measured_once_per_model_shape_and_vector_count():
    forget_choices()
    model, loss_fn, batch = tiny_problem(False, "huber")
    spectrum = HessianSpectrum(model, loss_fn, batch)
    spectrum.hvp(torch.ones(3, spectrum.n_params, dtype=torch.float64))
    assert len(spectrum.products.measurements) == 1 and "3 vector(s)" in spectrum.products.measurements[0]
    assert "forward-over-reverse" not in spectrum.products.measurements[0]  # it cannot run here
    assert spectrum.method in METHODS
    again = HessianSpectrum(model, loss_fn, batch)
    again.hvp(torch.ones(3, again.n_params, dtype=torch.float64))
    assert again.products.measurements == [] and again.method == spectrum.method


class TinyAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv, self.head = nn.Linear(4, 12), nn.Linear(4, 3)

    def forward(self, x):  # x: (batch, tokens, 4)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.head(F.scaled_dot_product_attention(q, k, v).mean(dim=1))


def test_attention_runs_on_a_twice_differentiable_kernel():
    torch.manual_seed(0)
    model = TinyAttention()
    batch = (torch.randn(6, 5, 4), torch.randint(0, 3, (6,)))
    spectrum = HessianSpectrum(model, F.cross_entropy, batch)
    u, v = torch.randn(2, spectrum.n_params)
    assert float(u @ spectrum.hvp(v)) == pytest.approx(float(v @ spectrum.hvp(u)), rel=1e-4)
    assert np.isfinite(spectrum.top_eigenvalues(1, iterations=8)).all()


def test_spectral_norm_power_iteration_is_frozen_so_the_operator_stays_fixed():
    from torch.nn.utils.parametrizations import spectral_norm

    torch.manual_seed(0)
    model = nn.Sequential(spectral_norm(nn.Linear(4, 6)), nn.ReLU(), nn.Linear(6, 3)).double()
    u_before = model[0].parametrizations.weight[0]._u.clone()
    batch = (torch.randn(10, 4, dtype=torch.float64), torch.randint(0, 3, (10,)))
    spectrum = HessianSpectrum(model, F.cross_entropy, batch)
    v = torch.randn(spectrum.n_params, dtype=torch.float64)
    torch.testing.assert_close(spectrum.hvp(v), spectrum.hvp(v), rtol=0, atol=0)
    assert torch.equal(model[0].parametrizations.weight[0]._u, u_before) and model.training
