"""The plasticity probe's K copies trained together (vmap over stacked parameters) against K
probes one after another (a deep copy, torch.optim.Adam, a plain loop each), in one process.

Two sequential references: torch.optim.Adam as constructed by default (what a probe written by
hand would use) and with fused=True (the kernel the batched probe uses on the stacked tensors),
which isolates the effect of batching the forward and backward passes.

Same network (the Adam scenario's 784-128-128-10 MLP), targets, batch size, steps and mini-batch
sequence. Prints seconds of each and the ratio sequential / batched (> 1: batching wins). On a CPU
the target is simply "not slower"; on a GPU the issue asks for >= 3x.

    .venv/bin/python bench/bench_probe_batched.py [--k 8] [--steps 200] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from plastilab.instruments.plasticity_probe import PlasticityProbe
from plastilab.instruments.schema import ProbeConfig
from plastilab.models.mlp import MLP


def sequential(model, inputs, targets, batches, lr, fused) -> list[float]:
    """K ordinary probes: copy the network, fresh Adam, train on one target, score it."""
    losses = []
    for target in targets:
        twin = copy.deepcopy(model)
        opt = torch.optim.Adam(twin.parameters(), lr=lr, fused=fused)
        for idx in batches:
            loss = F.mse_loss(twin(inputs[idx]), target[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            losses.append(float(F.mse_loss(twin(inputs), target)))
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    torch.manual_seed(0)
    model = MLP(784, [128, 128], 10).to(device)
    inputs = torch.rand(args.examples, 784, device=device)
    config = ProbeConfig(n_targets=args.k, probe_steps=args.steps, batch_size=args.batch, n_examples=args.examples)
    probe = PlasticityProbe(inputs, config, seed=0)
    batched = probe.measure(model)  # draws the targets; also warms up
    # The sequential side gets exactly the probe's inputs, targets and mini-batches.
    x, targets = probe._inputs.to(device), probe._targets.to(device)
    batches = probe._batches(len(x), device)

    times = {"batched": [], "sequential": [], "sequential, fused Adam": []}
    for _ in range(args.repeats):  # interleaved, so a busy neighbour slows all alike
        sync()
        start = time.perf_counter()
        batched = probe.measure(model)
        sync()
        times["batched"].append(time.perf_counter() - start)
        for name, fused in (("sequential", None), ("sequential, fused Adam", True)):
            start = time.perf_counter()
            losses = sequential(model, x, targets, batches, config.lr, fused)
            sync()
            times[name].append(time.perf_counter() - start)

    b = statistics.median(times["batched"])
    print(f"device {device}, threads {args.threads}: K={args.k} copies of 784-128-128-10, ", end="")
    print(f"{args.steps} steps, batch {args.batch}")
    for name, spent in times.items():
        s = statistics.median(spent)
        print(f"  {name:<24} {s:7.3f} s   {s / b:5.2f}x the batched time")
    gap = max(abs(u - v) / max(abs(v), 1e-12) for u, v in zip(batched.per_target, losses))
    print(f"  largest relative gap between batched and sequential final losses: {gap:.1e}", end="")
    print(" (float32 drift over the steps)")


if __name__ == "__main__":
    main()
