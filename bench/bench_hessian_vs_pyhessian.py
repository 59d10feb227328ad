"""plastilab's Hessian instrument against a PyHessian-style implementation, same model, loss and batch.

PyHessian (Yao et al., the reference implementation; PyPI 0.1) does not run on current torch (its
``density()`` calls the removed ``torch.eig``), so :class:`PyHessianStyle` below re-states its
``hessian.py`` faithfully: the gradient built once with ``create_graph=True`` and kept, one vector
per backward pass, lists of per-parameter tensors, power iteration with deflation for the top
eigenvalues, Hutchinson for the trace, Lanczos with full reorthogonalisation for the density.

Model: the Adam scenario's 784-128-128-10 MLP trained 300 Adam steps on 512 MNIST digits (the
shipped mnist-5k), loss cross-entropy on those 512 digits. Rows (plastilab / PyHessian-style):

* top-1     30 products each: ``top_eigenvalues(1, iterations=30)`` / power iteration, 30 steps;
* top-5     at defaults: ``top_eigenvalues(5)`` / ``eigenvalues(top_n=5)`` (100 steps, tol 1e-3);
* trace     100 Rademacher samples each;
* density   30 Lanczos iterations x 4 and x 16 starts (plastilab includes its smoothing).

Each row times construction plus the call (both sides build their products at construction),
the best of interleaved repeats after one warm-up (the best, not the median: on a shared machine
other processes only ever add time) (plastilab's first use of a vector count times
its ways of computing products; that is in the warm-up). Ratio = PyHessian-style / plastilab
seconds (> 1: plastilab is faster). Eigenvalue errors are relative to a float64 reference: the same
loss in double precision, 150 Lanczos steps with full reorthogonalisation (converged top-5).

    .venv/bin/python bench/bench_hessian_vs_pyhessian.py [--threads 1] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from plastilab.data.datasets import load_images
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.models.mlp import MLP


class PyHessianStyle:
    """pyhessian/hessian.py's algorithms, its retained double-backward graph, vectors as lists."""

    def __init__(self, model, loss_fn, batch):
        inputs, targets = batch
        loss = loss_fn(model(inputs), targets)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.grads = torch.autograd.grad(loss, self.params, create_graph=True)  # kept for every product

    def hvp(self, v):
        return torch.autograd.grad(self.grads, self.params, grad_outputs=v, only_inputs=True, retain_graph=True)

    def eigenvalues(self, max_iter=100, tol=1e-3, top_n=1):
        eigenvalues, eigenvectors = [], []
        for _ in range(top_n):
            eigenvalue = None
            v = _normalised([torch.randn_like(p) for p in self.params])
            for _ in range(max_iter):
                v = _orthonormal(v, eigenvectors)
                hv = self.hvp(v)
                value = _dot(hv, v).cpu().item()
                v = _normalised(hv)
                if eigenvalue is not None and abs(eigenvalue - value) / (abs(eigenvalue) + 1e-6) < tol:
                    break
                eigenvalue = value
            eigenvalues.append(eigenvalue)
            eigenvectors.append(v)
        return eigenvalues

    def trace(self, max_iter=100, tol=1e-3):
        samples, trace = [], 0.0
        for _ in range(max_iter):
            v = [torch.randint_like(p, high=2) * 2 - 1 for p in self.params]
            samples.append(_dot(self.hvp(v), v).cpu().item())
            if abs(np.mean(samples) - trace) / (abs(trace) + 1e-6) < tol:
                break
            trace = np.mean(samples)
        return float(np.mean(samples))

    def density(self, iterations=100, n_v=1):
        nodes, weights = [], []
        for _ in range(n_v):
            v = _normalised([torch.randint_like(p, high=2) * 2 - 1 for p in self.params])
            basis, alphas, betas = [v], [], []
            for i in range(iterations):
                if i == 0:
                    w_prime = self.hvp(v)
                    alpha = _dot(w_prime, v)
                    w = [a - alpha * b for a, b in zip(w_prime, v)]
                else:
                    beta = torch.sqrt(_dot(w, w))
                    betas.append(beta.cpu().item())
                    if betas[-1] != 0.0:
                        v = _orthonormal(w, basis)
                    else:
                        v = _orthonormal([torch.randn_like(p) for p in self.params], basis)
                    basis.append(v)
                    w_prime = self.hvp(v)
                    alpha = _dot(w_prime, v)
                    w = [a - alpha * b - beta * c for a, b, c in zip(w_prime, v, basis[-2])]
                alphas.append(alpha.cpu().item())
            t = torch.diag(torch.tensor(alphas)) + torch.diag(torch.tensor(betas), 1) + torch.diag(torch.tensor(betas), -1)
            values, vectors = torch.linalg.eigh(t.double())  # torch.eig in the original
            nodes.append(values.numpy())
            weights.append((vectors[0] ** 2).numpy())
        return nodes, weights


def _dot(xs, ys):
    return sum(torch.sum(x * y) for x, y in zip(xs, ys))


def _normalised(v):
    norm = torch.sqrt(_dot(v, v)).cpu().item()
    return [t / (norm + 1e-6) for t in v]


def _orthonormal(w, basis):
    for v in basis:
        w = [a - _dot(w, v) * b for a, b in zip(w, v)]
    return _normalised(w)


def trained_model(device: torch.device):
    images, labels = load_images("mnist-5k", 512, seed=0)
    images = images.reshape(len(images), -1)
    torch.manual_seed(0)
    model = MLP(784, [128, 128], 10)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(300):
        idx = torch.randint(0, 512, (64,))
        optimiser.zero_grad()
        F.cross_entropy(model(images[idx]), labels[idx]).backward()
        optimiser.step()
    return model.to(device), (images.to(device), labels.to(device))


def _lanczos_top(model, batch, k, steps):
    ph = PyHessianStyle(model, F.cross_entropy, batch)
    sizes = [p.numel() for p in ph.params]
    n = sum(sizes)
    q = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(123)).to(batch[0].device)
    q /= q.norm()
    basis, alphas, betas = [], [], []
    for j in range(steps):
        basis.append(q)
        hq = torch.cat([t.reshape(-1) for t in ph.hvp([p.reshape(t.shape) for p, t in zip(q.split(sizes), ph.params)])])
        alphas.append(float(hq @ q))
        b = torch.stack(basis)
        hq -= b.T @ (b @ hq)
        hq -= b.T @ (b @ hq)
        beta = float(hq.norm())
        if j < steps - 1:
            betas.append(beta)
            q = hq / beta
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    return np.sort(np.linalg.eigvalsh(t))[::-1][:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    model, batch = trained_model(device)
    loss = F.cross_entropy

    double = MLP(784, [128, 128], 10).to(device).double()
    double.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    exact = _lanczos_top(double, (batch[0].double(), batch[1]), 5, 150)

    rows = {
        "top-1 (30 HVPs)": (
            lambda: HessianSpectrum(model, loss, batch).top_eigenvalues(1, iterations=30),
            lambda: PyHessianStyle(model, loss, batch).eigenvalues(max_iter=30, tol=0.0, top_n=1),
        ),
        "top-5 (defaults)": (
            lambda: HessianSpectrum(model, loss, batch).top_eigenvalues(5),
            lambda: PyHessianStyle(model, loss, batch).eigenvalues(top_n=5),
        ),
        "trace (100 samples)": (
            lambda: HessianSpectrum(model, loss, batch).trace(100),
            lambda: PyHessianStyle(model, loss, batch).trace(max_iter=100, tol=0.0),
        ),
        "density 30 x 4": (
            lambda: HessianSpectrum(model, loss, batch).density(30, 4),
            lambda: PyHessianStyle(model, loss, batch).density(30, 4),
        ),
        "density 30 x 16": (
            lambda: HessianSpectrum(model, loss, batch).density(30, 16),
            lambda: PyHessianStyle(model, loss, batch).density(30, 16),
        ),
    }

    def timed(call):
        sync()
        start = time.perf_counter()
        out = call()
        sync()
        return time.perf_counter() - start, out

    print(f"784-128-128-10 MLP after 300 Adam steps, 512 MNIST digits, {device}, threads {args.threads}")
    print(f"{'row':<22}{'plastilab s':>12}{'PyHessian s':>13}{'ratio':>8}")
    outputs = {}
    for name, (ours, theirs) in rows.items():
        torch.manual_seed(0)
        timed(ours)  # warm-up: loads kernels, times the product ways on first use
        timed(theirs)
        spent = {"ours": [], "theirs": []}
        for _ in range(args.repeats):  # interleaved, so a busy neighbour slows both alike
            for side, call in (("ours", ours), ("theirs", theirs)):
                seconds, outputs[name, side] = timed(call)
                spent[side].append(seconds)
        a, b = min(spent["ours"]), min(spent["theirs"])
        print(f"{name:<22}{a:>12.3f}{b:>13.3f}{b / a:>7.2f}x")

    ours5 = np.asarray(outputs["top-5 (defaults)", "ours"], dtype=float)
    theirs5 = np.asarray(outputs["top-5 (defaults)", "theirs"], dtype=float)
    print("top-5 eigenvalues, float64 reference:", " ".join(f"{v:.6f}" for v in exact))
    print("  relative error, plastilab:          ", " ".join(f"{e:.1e}" for e in np.abs(ours5 - exact) / np.abs(exact)))
    # Power iteration returns eigenvalues by |λ|, unsorted: compare as returned and sorted.
    print("  relative error, PyHessian-style:    ", " ".join(f"{e:.1e}" for e in np.abs(theirs5 - exact) / np.abs(exact)))
    top1 = float(np.asarray(outputs["top-1 (30 HVPs)", "ours"])[0])
    print(f"top-1 relative error: plastilab {abs(top1 - exact[0]) / exact[0]:.1e}, ", end="")
    print(f"PyHessian-style {abs(outputs['top-1 (30 HVPs)', 'theirs'][0] - exact[0]) / exact[0]:.1e}")
    print(f"trace: plastilab {outputs['trace (100 samples)', 'ours']:.3f}, PyHessian-style {outputs['trace (100 samples)', 'theirs']:.3f}")


if __name__ == "__main__":
    main()
