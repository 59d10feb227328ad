"""The Hessian eigenvalue density: each way of computing Hessian-vector products, and how faithful
the default smoothing is, in one process.

1. Speed. The density's Lanczos chains (30 iterations x 1, 4, 16 starts, run in lockstep) on the
   Adam scenario's 784-128-128-10 MLP after 300 Adam steps, 256 MNIST digits, with each way of
   computing products forced (``reverse-over-reverse``: the kept first-order graph, one vector at a
   time; ``..., batched``: the same graph, all chains in one backward pass; ``forward-over-reverse``:
   torch.func's jvp of grad, vmapped) and with the instrument's own choice (timed on first use).
   Prints seconds and each way's time over the chosen one (> 1: the choice is faster).
2. Faithfulness. A small MLP (635 parameters, float64) whose exact spectrum is known, at three
   stages of training: the share of eigenvalues within 1% of the span around zero, exact, and as
   the smoothed density of a 30 x 4 quadrature gives it at the old default (sigma = 1% of the
   span) and at the new one (sigma = 0.5% of the bulk's spread).

    .venv/bin/python bench/bench_hessian_density.py [--starts 1 4 16] [--threads 1] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from plastilab.data.datasets import load_images
from plastilab.instruments.hessian_products import METHODS
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.models.mlp import MLP


def trained_model(batch_size: int, device: torch.device):
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
    return model.to(device), (images[:batch_size].to(device), labels[:batch_size].to(device))


def speed(args, device) -> None:
    model, batch = trained_model(args.batch, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    ways = {"chosen": None, **{m: m for m in METHODS}}
    n_params = HessianSpectrum(model, F.cross_entropy, batch).n_params
    print(f"784-128-128-10 MLP ({n_params} parameters), batch {args.batch}, {args.iterations} Lanczos iterations, ", end="")
    print(f"{device}, threads {args.threads}")
    print(f"{'starts':>6} " + " ".join(f"{name:>31}" for name in ways))
    for n_starts in args.starts:
        starts = torch.randn(n_starts, n_params, generator=torch.Generator().manual_seed(n_starts)).to(device)
        seconds = {name: [] for name in ways}
        for name, method in ways.items():  # warm-up (the chosen way is timed on first use here)
            HessianSpectrum(model, F.cross_entropy, batch, method=method).lanczos(2, starts=starts)
        for _ in range(args.repeats):  # interleaved, so a busy neighbour slows all alike
            for name, method in ways.items():
                sync()
                begin = time.perf_counter()
                with HessianSpectrum(model, F.cross_entropy, batch, method=method) as spectrum:
                    spectrum.lanczos(args.iterations, starts=starts)
                sync()
                seconds[name].append(time.perf_counter() - begin)
        chosen = statistics.median(seconds["chosen"])
        cells = [f"{statistics.median(s):7.3f} s ({statistics.median(s) / chosen:4.2f}x)" for s in seconds.values()]
        print(f"{n_starts:>6} " + " ".join(f"{c:>31}" for c in cells))


def faithfulness() -> None:
    print("\nshare of eigenvalues within 1% of the span around zero (635-parameter MLP, 30 x 4 quadrature)")
    print(f"{'training steps':>15} {'exact':>7} {'old sigma':>10} {'new sigma':>10}")
    for steps in (0, 30, 300):
        torch.manual_seed(0)
        model = MLP(16, [24, 8], 3).double()
        x, y = torch.randn(64, 16, dtype=torch.float64), torch.randint(0, 3, (64,))
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(steps):
            optimiser.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimiser.step()
        names, shapes = [n for n, _ in model.named_parameters()], [p.shape for p in model.parameters()]

        def loss(vector):
            pieces = vector.split([s.numel() for s in shapes])
            return F.cross_entropy(functional_call(model, {n: p.reshape(s) for n, p, s in zip(names, pieces, shapes)}, (x,)), y)

        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        exact = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat)).numpy()
        quadrature = HessianSpectrum(model, F.cross_entropy, (x, y)).lanczos(30, 4)
        nodes = quadrature.nodes
        t = 0.01 * (exact.max() - exact.min())

        def smoothed(width: float) -> float:
            z = (np.array([-t, t])[None, None, :] - nodes[..., None]) / width
            cdf = torch.special.ndtr(torch.from_numpy(z)).numpy()
            return float((quadrature.weights * (cdf[..., 1] - cdf[..., 0])).sum(axis=1).mean())

        old = 0.01 * max(nodes.max() - nodes.min(), abs(nodes.max()), abs(nodes.min()))
        share = np.mean(np.abs(exact) <= t)
        print(f"{steps:>15} {share:>7.3f} {smoothed(old):>10.3f} {smoothed(quadrature.smoothing_width(0.005)):>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    speed(args, torch.device(args.device))
    faithfulness()


if __name__ == "__main__":
    main()
