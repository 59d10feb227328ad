"""The plasticity probe's K copies trained together (stacked parameters) against K probes one
after another (a deep copy, torch.optim.Adam, a plain loop each), and against the probe's previous
batched form (``vmap`` of ``grad_and_value`` of a ``functional_call``, as before issue 15), in one
process.

Two sequential references: torch.optim.Adam as constructed by default (what a probe written by
hand would use) and with fused=True (the kernel the batched probe uses on the stacked tensors),
which isolates the effect of batching the forward and backward passes.

Same network (the Adam scenario's 784-128-128-10 MLP), targets, batch size, steps and mini-batch
sequence. Prints seconds of each and the ratio other / batched (> 1: the probe wins). Targets:
"not slower" than sequential on a CPU (>= 3x on a GPU); >= 1.5x the previous batched form at the
adam-instruments settings (``--preset adam-instruments``: 784-64-64-10, K = 4, 200 steps, 256
examples, random labels), with the same numbers within float tolerance.

    .venv/bin/python bench/bench_probe_batched.py [--preset adam-instruments] [--k 8] [--steps 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, vmap

from plastilab.instruments.plasticity_probe import ConfiguredProbe
from plastilab.instruments.schema import ProbeConfig
from plastilab.models.mlp import MLP


def sequential(model, inputs, targets, batches, lr, fused, loss_fn) -> list[float]:
    """K ordinary probes: copy the network, fresh Adam, train on one target, score it."""
    losses = []
    for target in targets:
        twin = copy.deepcopy(model)
        opt = torch.optim.Adam(twin.parameters(), lr=lr, fused=fused)
        for idx in batches:
            loss = loss_fn(twin(inputs[idx]), target[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            losses.append(float(loss_fn(twin(inputs), target)))
    return losses


def previous_batched(model, inputs, targets, batches, lr, loss) -> np.ndarray:
    """The probe's K copies as before issue 15: vmap of grad_and_value, fused Adam, then scoring."""
    twin = copy.deepcopy(model)
    params = {n: p.detach().unsqueeze(0).repeat(len(targets), *([1] * p.dim())) for n, p in twin.named_parameters()}

    def one(p, x, t):
        return loss(functional_call(twin, p, (x,)), t)

    step = vmap(grad_and_value(one), in_dims=(0, None, 0), randomness="different")
    stacked = list(params.values())
    optimiser = torch.optim.Adam(stacked, lr=lr, fused=True)
    curve = torch.empty(len(batches))
    for t, idx in enumerate(batches):
        grads, losses = step(params, inputs[idx], targets[:, idx])
        curve[t] = losses.mean()
        for tensor, g in zip(stacked, grads.values()):
            tensor.grad = g
        optimiser.step()
    with torch.no_grad():
        return vmap(one, in_dims=(0, None, 0))(params, inputs, targets).double().cpu().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--family", default="network_regression")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--preset", choices=["adam-instruments"], default=None)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    if args.preset == "adam-instruments":  # scenarios/adam-instruments.toml's [instruments.probe]
        args.k, args.steps, args.examples, args.hidden, args.family = 4, 200, 256, [64, 64], "random_labels"
        args.lr = 1e-2
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    torch.manual_seed(0)
    model = MLP(784, args.hidden, 10).to(device)
    inputs = torch.rand(args.examples, 784, device=device)
    config = ProbeConfig(
        family=args.family, n_targets=args.k, probe_steps=args.steps, batch_size=args.batch, n_examples=args.examples,
        lr=args.lr,
    )
    loss = F.cross_entropy if args.family == "random_labels" else F.mse_loss
    probe = ConfiguredProbe(inputs, config, seed=0)
    batched = probe.measure(model)  # draws the targets; also warms up
    # The sequential side gets exactly the probe's inputs, targets and mini-batches.
    x, targets = probe._inputs.to(device), probe._targets.to(device)
    batches = probe._batches(len(x), device)

    times = {"batched": [], "previous batched (vmap of grad)": [], "sequential": [], "sequential, fused Adam": []}
    for _ in range(args.repeats):  # interleaved, so a busy neighbour slows all alike
        sync()
        start = time.perf_counter()
        batched = probe.measure(model)
        sync()
        times["batched"].append(time.perf_counter() - start)
        start = time.perf_counter()
        previous = previous_batched(model, x, targets, batches, config.lr, loss)
        sync()
        times["previous batched (vmap of grad)"].append(time.perf_counter() - start)
        for name, fused in (("sequential", None), ("sequential, fused Adam", True)):
            start = time.perf_counter()
            losses = sequential(model, x, targets, batches, config.lr, fused, loss)
            sync()
            times[name].append(time.perf_counter() - start)

    b = min(times["batched"])
    shape = "-".join(str(w) for w in [784, *args.hidden, 10])
    print(f"device {device}, threads {args.threads}: K={args.k} copies of {shape}, ", end="")
    print(f"{args.steps} steps, batch {args.batch}, {args.examples} examples, {args.family}")
    for name, spent in times.items():
        s = min(spent)  # the best run: on a shared machine other processes only ever add time
        print(f"  {name:<24} {s:7.3f} s   {s / b:5.2f}x the batched time")
    # Float32 rounding differs between any two of these; training can amplify it over the steps,
    # so the previous form's own gap to the sequential probes is the yardstick.
    pairs = (("batched", batched.per_target, "sequential", losses), ("batched", batched.per_target, "previous", previous),
             ("previous", previous, "sequential", losses))
    for a, one, b, other in pairs:
        gap = max(abs(u - v) / max(abs(v), 1e-12) for u, v in zip(one, other))
        print(f"  largest relative gap, {a} vs {b} final losses: {gap:.1e}")


if __name__ == "__main__":
    main()
