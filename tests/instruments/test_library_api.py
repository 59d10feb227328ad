"""The public face of plastilab.instruments: cheap to import, keyword options, honest errors, one Lanczos run."""

import inspect
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

import plastilab.instruments as instruments
from plastilab.instruments import (
    ModelInputError,
    PlasticityProbe,
    gradient_similarity,
    hessian,
    measure_plasticity,
    measure_units,
)
from plastilab.instruments.schema import ProbeConfig

LIBRARY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "library.md"


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_importing_the_package_loads_no_torch():
    code = "import sys, plastilab.instruments, plastilab.instruments.schema; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_every_public_name_resolves():
    for name in instruments.__all__:
        assert getattr(instruments, name) is not None, name
        assert name in dir(instruments)
    with pytest.raises(AttributeError):
        instruments.no_such_instrument  # noqa: B018


def test_probe_options_default_to_the_scenario_schema():
    options = {
        name: p.default
        for name, p in inspect.signature(PlasticityProbe).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name in ProbeConfig.model_fields
    }
    assert set(options) == set(ProbeConfig.model_fields) - {"every"}
    assert options == {name: ProbeConfig.model_fields[name].default for name in options}


def test_probe_from_options_equals_probe_from_a_config_and_bad_values_are_one_line():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.randn(40, 5)
    options = dict(family="random_labels", n_targets=2, probe_steps=5, batch_size=16, n_examples=32)
    from_options = PlasticityProbe(x, **options).measure(model)
    from_config = PlasticityProbe(x, ProbeConfig(**options)).measure(model)
    assert from_options.final_loss == from_config.final_loss
    with pytest.raises(TypeError, match="either config or keyword options"):
        PlasticityProbe(x, ProbeConfig(), n_targets=2)
    with pytest.raises(ValueError) as caught:
        PlasticityProbe(x, n_targets=0)
    assert str(caught.value) == "PlasticityProbe: n_targets: found 0; allowed: a number >= 1"

    # One call with a baseline: plasticity_loss is the difference of the two probes' scale-free
    # losses (plasticity_loss_raw of the raw ones), by hand.
    moved = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    result = measure_plasticity(moved, x, baseline_model=model, **options)
    alone = measure_plasticity(moved, x, **options)
    assert result.plasticity_loss == pytest.approx(alone.final_loss_scaled - from_options.final_loss_scaled, abs=1e-12)
    assert result.plasticity_loss_raw == pytest.approx(alone.final_loss - from_options.final_loss, abs=1e-12)


def test_wrong_input_shapes_are_one_line_naming_the_expected_input():
    model, y = MLP(), torch.randint(0, 10, (64,))
    images = torch.rand(64, 28, 28)
    expected = (
        "MLP cannot take inputs of shape (64, 28, 28) float32: RuntimeError: mat1 and mat2 shapes cannot be "
        "multiplied (56x28 and 784x128); MLP expects (N, 784): its first layer fc1 (Linear)"
    )
    calls = [
        lambda: hessian(model, F.cross_entropy, (images, y)),
        lambda: gradient_similarity(model, F.cross_entropy, (images, y)),
        lambda: measure_units(model, images),
        lambda: PlasticityProbe(images, family="random_labels").measure(model),
        lambda: measure_plasticity(model, images),
    ]
    for call in calls:
        with pytest.raises(ModelInputError) as caught:
            call()
        assert str(caught.value) == expected
        assert isinstance(caught.value, ValueError) and isinstance(caught.value.original, RuntimeError)
    assert expected in LIBRARY_PAGE.read_text(encoding="utf-8").replace("\n", " ")

    convnet = nn.Sequential(OrderedDict(conv1=nn.Conv2d(3, 8, 3), flat=nn.Flatten(), fc=nn.LazyLinear(2)))
    with pytest.raises(ModelInputError, match=r"expects \(N, 3, H, W\): its first layer conv1 \(Conv2d\)$"):
        measure_units(convnet, torch.rand(4, 1, 8, 8))


def test_loss_and_target_mistakes_are_one_line():
    model, x = MLP(), torch.rand(8, 784)
    with pytest.raises(ModelInputError, match=r"targets \(7\) int64 do not hold one row per example"):
        hessian(model, F.cross_entropy, (x, torch.randint(0, 10, (7,))))
    with pytest.raises(ModelInputError, match=r"loss_fn must return one number .* returned \(2\) float32"):
        hessian(model, lambda out, t: F.cross_entropy(out, t, reduction="none"), (x, torch.randint(0, 10, (8,))))
    mismatch = r"loss_fn cannot take outputs \(2, 10\) float32 and targets \(2, 3\) float32: RuntimeError"
    with pytest.raises(ModelInputError, match=mismatch):
        hessian(model, F.cross_entropy, (x, torch.rand(8, 3)))


def small_regression():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    return model, (torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 1, dtype=torch.float64))


def dense_hessian(model: nn.Module, loss_fn, batch) -> torch.Tensor:
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(vector):
        parts = vector.split([s.numel() for s in shapes])
        params = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes)}
        return loss_fn(functional_call(model, params, (batch[0],)), batch[1])

    return torch.autograd.functional.hessian(loss, flat)


def test_top_and_density_share_one_lanczos_run():
    model, batch = small_regression()
    spectrum = hessian(model, F.mse_loss, batch, iterations=31, n_starts=3)  # 31 parameters: exact
    products = []
    hvp = spectrum.operator.hvp
    spectrum.operator.hvp = lambda v: products.append(v.shape) or hvp(v)
    top = spectrum.top(2)
    fractions, _ = spectrum.density()
    spectrum.moment(2)
    assert spectrum.lanczos_runs == 1
    assert products == [(3, spectrum.n_params)] * 31  # 31 steps, 3 chains each, in lockstep: nothing more
    exact = torch.linalg.eigvalsh(dense_hessian(model, F.mse_loss, batch)).flip(0)
    torch.testing.assert_close(torch.from_numpy(top), exact[:2], rtol=1e-8, atol=0)
    assert fractions.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"top\(k=32\).*iterations >= 32"):
        spectrum.top(32)


def test_eval_mode_batch_norm_uses_its_running_statistics():
    # Linear-BN-ReLU-Linear in eval mode, with running statistics far from the batch's own.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 1)).double()
    with torch.no_grad():
        model[1].running_mean.fill_(0.7)
        model[1].running_var.fill_(3.0)
    model.eval()
    batch = (torch.randn(16, 3, dtype=torch.float64), torch.randn(16, 1, dtype=torch.float64))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    spectrum = hessian(model, F.mse_loss, batch, iterations=30, n_starts=1)
    exact = torch.linalg.eigvalsh(dense_hessian(model, F.mse_loss, batch)).flip(0)
    torch.testing.assert_close(torch.from_numpy(spectrum.top(3)), exact[:3], rtol=1e-8, atol=1e-12)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
