"""The library page's "Measure your own model" examples (docs/library.md), run as written, their numbers checked by hand.

Each test executes one code block of that section (so the page cannot drift from what works)
and checks what it printed against an independent computation: a dense Hessian from
``torch.autograd.functional.hessian`` or a closed form, activations caught by a plain hook.
"""

import contextlib
import io
import logging
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

LIBRARY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "library.md"


def library_examples() -> list[str]:
    text = LIBRARY_PAGE.read_text(encoding="utf-8")
    section = text.split("## Measure your own model", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def run_example(index: int) -> dict:
    namespace: dict = {"__name__": f"library_example_{index}"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(library_examples()[index], f"docs/library.md example {index + 1}", "exec"), namespace)
    return namespace


def test_the_section_has_three_examples():
    assert len(library_examples()) == 3


def test_resnet18_units_and_head_hessian():
    ns = run_example(0)
    model, images, labels, units, spectrum = ns["model"], ns["images"], ns["labels"], ns["units"], ns["spectrum"]

    # Activations by hand: torchvision's first ReLU of layer1.0 is in place, and its input is bn1's output.
    caught = {}

    def keep(key, which):
        def hook(module, args, output):  # returns None: a hook that returns a value replaces the output
            caught[key] = (output if which == "output" else args[0]).detach().clone()

        return hook

    hooks = [
        model.layer1[0].bn1.register_forward_hook(keep("pre", "output")),
        model.fc.register_forward_hook(keep("features", "input")),
    ]
    with torch.no_grad():
        model(images)
    for hook in hooks:
        hook.remove()
    pre = caught["pre"]  # (N, 64, H, W): channels are units
    assert units["units/preact_mean/layer1.0.relu"] == pytest.approx(float(pre.double().mean()), rel=1e-6)
    assert float(pre.double().mean()) != pytest.approx(float(pre.relu().double().mean()), rel=0.1)  # the in-place trap
    dead = (pre <= 0).all(dim=3).all(dim=2).all(dim=0).double().mean()
    assert units["units/dead_fraction/layer1.0.relu"] == pytest.approx(float(dead))

    # The head's Hessian in closed form: for cross-entropy on a linear head,
    # H = (1/N) Σ_n A_n ⊗ h_n h_nᵀ with A_n = diag(p_n) - p_n p_nᵀ and h_n = [features_n, 1].
    # Writing H = BᵀB, its nonzero eigenvalues are those of the (N·C)x(N·C) matrix BBᵀ, whose
    # block (n, m) is S_n S_m (h_n·h_m) / N with S_n = A_n^½.
    h = torch.cat([caught["features"].double(), torch.ones(len(images), 1, dtype=torch.float64)], dim=1)
    p = torch.softmax(h[:, :-1] @ model.fc.weight.double().T + model.fc.bias.double(), dim=1)
    a = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    w, v = torch.linalg.eigh(a)
    s = v @ torch.diag_embed(w.clamp_min(0).sqrt()) @ v.transpose(1, 2)
    n, c = p.shape
    blocks = torch.einsum("nij,mjk,nm->nimk", s, s, h @ h.T) / n
    exact = torch.linalg.eigvalsh(blocks.reshape(n * c, n * c)).flip(0)
    assert spectrum.n_params == 5130
    torch.testing.assert_close(torch.from_numpy(spectrum.top(3)), exact[:3], rtol=1e-4, atol=0)
    fractions, edges = ns["fractions"], ns["edges"]
    assert spectrum.lanczos_runs == 1 and fractions.sum() == pytest.approx(1.0) and len(edges) == len(fractions) + 1


def test_training_loop_probed_before_and_after():
    ns = run_example(1)
    model, x, probe, theta_0 = ns["model"], ns["x"], ns["probe"], ns["theta_0"]
    before, after = ns["before"], ns["after"]
    assert after.plasticity_loss == pytest.approx(after.final_loss_scaled - before.final_loss_scaled, abs=1e-12)
    assert after.plasticity_loss_raw == pytest.approx(after.final_loss - before.final_loss, abs=1e-12)
    assert before.plasticity_loss == 0.0 and len(after.curve) == 100 and len(after.per_target) == 4

    # The same loop without the probe ends at bit-for-bit the same weights: the probe touches
    # neither the network, nor its optimiser, nor the global random stream.
    torch.manual_seed(0)
    twin = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimiser = torch.optim.Adam(twin.parameters(), lr=1e-3)
    for _ in range(300):
        batch = torch.randint(0, len(x), (64,))
        loss = F.cross_entropy(twin(x[batch]), ns["labels"][batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert torch.equal(p, q), name

    # Distance from θ_0 and dead units by hand.
    params = dict(model.named_parameters())
    distance = sum(float((p.detach().double() - theta_0[n].double()).square().sum()) for n, p in params.items())
    distances = ns["distance_from_init"](model, theta_0)
    assert distances["weights/distance_from_init"] == pytest.approx(distance**0.5, rel=1e-9)
    pre = (x @ model[0].weight.T + model[0].bias).detach()
    units = ns["measure_units"](model, x)
    assert units["units/dead_fraction"] == pytest.approx(float((pre <= 0).all(dim=0).double().mean()))
    # The probe faces the same tasks every time: the untrained network again gives the baseline.
    torch.manual_seed(0)
    fresh = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    assert probe.measure(fresh).final_loss == pytest.approx(before.final_loss, rel=1e-6)


def test_dqn_td_loss_hessian_against_dense_autograd(caplog):
    with caplog.at_level(logging.INFO, logger="plastilab.instruments"):
        ns = run_example(2)
    qnet, spectrum, obs = ns["qnet"], ns["spectrum"], ns["obs"]
    batch = (obs, (ns["actions"], ns["td_targets"]))

    # The dense Hessian, in float64, over the flattened parameters.
    names = [name for name, _ in qnet.named_parameters()]
    shapes = [p.shape for p in qnet.parameters()]
    flat = torch.cat([p.detach().double().reshape(-1) for p in qnet.parameters()])
    q64 = type(qnet)().double()

    def loss(vector):
        parts = vector.split([s.numel() for s in shapes])
        params = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes)}
        actions, td_targets = batch[1]
        return ns["td_loss"](functional_call(q64, params, (obs.double(),)), (actions, td_targets.double()))

    dense = torch.autograd.functional.hessian(loss, flat, vectorize=True)
    exact = torch.linalg.eigvalsh(dense).flip(0)
    torch.testing.assert_close(torch.from_numpy(spectrum.top(3)), exact[:3], rtol=1e-4, atol=0)
    vector = torch.randn(spectrum.n_params, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(spectrum.hvp(vector).double(), dense @ vector.double(), rtol=1e-4, atol=1e-6)

    # Hutchinson's trace is random; its standard deviation over 32 Rademacher vectors is
    # sqrt(2 (|H|_F² - Σ H_ii²) / 32), from the dense matrix.
    spread = (2 * (dense.square().sum() - dense.diagonal().square().sum()) / 32).sqrt()
    assert abs(spectrum.trace() - float(dense.trace())) <= 4 * float(spread)

    # Huber has no forward-mode rule: the products went reverse over reverse, and the log says so.
    assert spectrum.method.startswith("reverse-over-reverse")  # one vector at a time or batched: timed
    logged = [r.getMessage() for r in caplog.records if r.name == "plastilab.instruments"]
    assert logged and logged[-1].startswith(f"Hessian-vector products by {spectrum.method}")

    # F.relu found by torch.fx: fc1's pre-activations by hand.
    pre = (obs @ qnet.fc1.weight.T + qnet.fc1.bias).detach()
    units = ns["measure_units"](qnet, obs)
    assert units["units/dead_fraction/fc1.relu"] == pytest.approx(float((pre <= 0).all(dim=0).double().mean()))
    assert units["units/preact_mean/fc1.relu"] == pytest.approx(float(pre.double().mean()), rel=1e-6)
