"""The Hessian eigenvalue density (stochastic Lanczos quadrature) with torch.func HVPs against
straightforward create_graph=True double-backward HVPs, in one process.

Same network (the Adam scenario's 784-128-128-10 MLP, a few hundred Adam steps into random-label
training), batch, start vectors, iterations and Lanczos code: only the Hessian-vector product
differs. Two double-backward references:

* fresh    - each product builds the gradient with create_graph=True and differentiates it again
             (the straightforward implementation);
* retained - the gradient graph is built once and kept, each product is one more backward
             (PyHessian's way; fewer FLOPs per product, the graph held in memory throughout).

torch.func runs the density's chains in lockstep (one vmap-ed jvp-of-grad per Lanczos step);
the references run them one vector at a time, as they are written. Prints seconds, the ratios
and the relative gap between top eigenvalues (target: >= 2x, within 1%).

What limits torch.func on a CPU (torch 2.14): a product needs two large matmuls per layer
(input x tangent, tangent-delta x input), which the retained graph does and nothing can avoid.
jvp of grad also recomputes the primal forward and backward, and forward-mode AD multiplies the
zero tangent of every constant operand (the inputs) as an efficient-zero tensor that costs a full
matmul on the CPU. Running chains in lockstep pays those once per step instead of once per
vector, which is why torch.func gains with more starts; it cannot beat the retained graph's FLOP
floor. On a GPU, where small products are launch-bound, lockstep batching is where to look.

    .venv/bin/python bench/bench_hessian_density.py [--starts 1 4 16] [--iterations 30] [--threads 1] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from plastilab.instruments.functional import flatten, unflatten
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.models.mlp import MLP


class DoubleBackwardSpectrum(HessianSpectrum):
    """The same Lanczos and quadrature, over create_graph=True double-backward products."""

    def __init__(self, model, loss_fn, batch, *, seed=0, retain=False):
        super().__init__(model, loss_fn, batch, seed=seed)
        self._model, self._loss_fn, self._batch, self._retain = model, loss_fn, batch, retain
        self._names = list(self._params)
        self._graph = self._gradient_with_graph() if retain else None

    def _gradient_with_graph(self):
        params = [p for _, p in self._model.named_parameters() if p.requires_grad]
        loss = self._loss_fn(self._model(self._batch[0]), self._batch[1])
        return params, torch.autograd.grad(loss, params, create_graph=True)

    def hvp(self, vector):
        if vector.dim() == 2:
            return torch.stack([self.hvp(v) for v in vector])
        params, grads = self._graph if self._retain else self._gradient_with_graph()
        tangents = list(unflatten(vector, self._params).values())
        products = torch.autograd.grad(grads, params, grad_outputs=tangents, retain_graph=self._retain)
        return flatten(dict(zip(self._names, products)))


def trained_model(batch_size: int, device: torch.device) -> tuple[MLP, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    model = MLP(784, [128, 128], 10)
    images, labels = torch.rand(512, 784), torch.randint(0, 10, (512,))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(300):
        idx = torch.randint(0, 512, (64,))
        optimiser.zero_grad()
        F.cross_entropy(model(images[idx]), labels[idx]).backward()
        optimiser.step()
    return model.to(device), (images[:batch_size].to(device), labels[:batch_size].to(device))


def timed(build, iterations: int, starts: torch.Tensor):
    """Seconds of build-then-quadrature, and the quadrature."""
    sync = torch.cuda.synchronize if starts.is_cuda else (lambda: None)
    sync()
    begin = time.perf_counter()
    quadrature = build().lanczos(iterations, starts=starts)
    sync()
    return time.perf_counter() - begin, quadrature


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
    device = torch.device(args.device)
    model, batch = trained_model(args.batch, device)
    loss = F.cross_entropy
    builders = {
        "torch.func": lambda: HessianSpectrum(model, loss, batch),
        "fresh": lambda: DoubleBackwardSpectrum(model, loss, batch),
        "retained": lambda: DoubleBackwardSpectrum(model, loss, batch, retain=True),
    }
    n_params = builders["torch.func"]().n_params
    timed(builders["torch.func"], 2, torch.randn(2, n_params, device=device))  # loads forward-AD decompositions

    print(f"784-128-128-10 MLP ({n_params} parameters), batch {args.batch}, ", end="")
    print(f"{args.iterations} Lanczos iterations, {device}, threads {args.threads}")
    columns = ("starts", "torch.func s", "fresh s", "retained s", "fresh/func", "retained/func", "top-eig gap")
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (6, 12, 9, 10, 10, 13, 11))))
    for n_starts in args.starts:
        starts = torch.randn(n_starts, n_params, generator=torch.Generator().manual_seed(n_starts)).to(device)
        seconds = {name: [] for name in builders}
        quadratures = {}
        for _ in range(args.repeats):  # interleaved, so a busy neighbour slows all three alike
            for name, build in builders.items():
                spent, quadratures[name] = timed(build, args.iterations, starts)
                seconds[name].append(spent)
        results = {name: (statistics.median(seconds[name]), quadratures[name]) for name in builders}
        func_s, func_q = results["torch.func"]
        top = func_q.top(1)[0]
        gap = max(abs(q.top(1)[0] - top) / abs(top) for _, q in results.values())
        print(
            f"{n_starts:>6} {func_s:>12.3f} {results['fresh'][0]:>9.3f} {results['retained'][0]:>10.3f} "
            f"{results['fresh'][0] / func_s:>9.2f}x {results['retained'][0] / func_s:>12.2f}x {gap:>11.1e}"
        )
    print(f"top eigenvalue {top:.4f}")


if __name__ == "__main__":
    main()
