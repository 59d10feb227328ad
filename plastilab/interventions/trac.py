"""TRAC (Muppidi et al., 2024): a parameter-free scale on the base optimiser's accumulated updates.

θ_ref is the parameters when TRAC starts; Δ accumulates the base optimiser's updates, and the
parameters are θ = θ_ref + S·Δ with S chosen online. Each step, with g the gradient at θ:

    h = Σ_p ⟨Δ_p, g_p⟩                       (Δ before this step's update)
    Δ ← Δ + u,   u = base_step(θ) − θ        (the base optimiser's update, e.g. Adam's)
    for each β_j in (0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999):
        v_j ← β_j² v_j + h²;   σ_j ← β_j σ_j − h
        s_j = s_init / erfi(1/√2) · erfi(σ_j / (√(2 v_j) + ε))
    S = max(Σ_j s_j, 0);   θ ← θ_ref + S·Δ

with s_init = ε = 1e-8. S stays tiny while the updates disagree with the gradients and grows
(through erfi, exponentially) while they agree: the pull toward θ_ref is what keeps plasticity.
Δ is kept as state, not recovered as (θ − θ_ref)/S, so S = 0 loses nothing. An intervention that
edits θ in place between steps (a reset, ReDo) moves θ_ref by its edit, so the edit stays.

``TRAC`` wraps any optimiser and is used in its place; ``state`` and ``param_groups`` are the base
optimiser's, so interventions that edit optimiser state work through it unchanged. erfi's
argument is clipped to ±10 (erfi(10) ≈ 1.5e42): past that S is astronomically large anyway.
"""

from __future__ import annotations

import math

import torch

BETAS = (0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999)
ERFI_ARGUMENT_LIMIT = 10.0


def erfi(x: float) -> float:
    """The imaginary error function, 2/√π Σ_n x^{2n+1} / (n! (2n+1)), summed until it stops changing."""
    x = max(-ERFI_ARGUMENT_LIMIT, min(ERFI_ARGUMENT_LIMIT, x))
    term, total, n = x, x, 0  # term = x^{2n+1}/n!
    while True:
        n += 1
        term *= x * x / n
        add = term / (2 * n + 1)
        total += add
        if abs(add) <= 1e-17 * abs(total):
            return 2 / math.sqrt(math.pi) * total


class TRAC:
    def __init__(self, base: torch.optim.Optimizer, betas=BETAS, s_init: float = 1e-8, eps: float = 1e-8) -> None:
        self.base, self.betas, self.s_init, self.eps = base, tuple(betas), s_init, eps
        self.reference: dict[torch.Tensor, torch.Tensor] = {}
        self.delta: dict[torch.Tensor, torch.Tensor] = {}
        self.v = [0.0] * len(self.betas)
        self.sigma = [0.0] * len(self.betas)
        self.scale = 0.0  # S

    @property
    def state(self):
        return self.base.state

    @property
    def param_groups(self):
        return self.base.param_groups

    def add_param_group(self, group: dict) -> None:
        self.base.add_param_group(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base.zero_grad(set_to_none=set_to_none)

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.base.param_groups for p in g["params"]]

    @torch.no_grad()
    def step(self) -> None:
        params = self._params()
        for p in params:  # a parameter seen for the first time (a new head) starts from here
            if p not in self.reference:
                self.reference[p] = p.detach().clone()
                self.delta[p] = torch.zeros_like(p)
            else:  # an intervention edited p in place since the last step: the edit moves θ_ref
                self.reference[p].add_(p - (self.reference[p] + self.scale * self.delta[p]))
        h = sum(float((self.delta[p] * p.grad).sum()) for p in params if p.grad is not None)
        before = {p: p.detach().clone() for p in params}
        self.base.step()
        for p in params:
            self.delta[p].add_(p - before[p])
        total = 0.0
        for j, beta in enumerate(self.betas):
            self.v[j] = beta * beta * self.v[j] + h * h
            self.sigma[j] = beta * self.sigma[j] - h
            ratio = self.sigma[j] / (math.sqrt(2 * self.v[j]) + self.eps)
            total += self.s_init / erfi(1 / math.sqrt(2)) * erfi(ratio)
        self.scale = max(total, 0.0)
        for p in params:
            p.copy_(self.reference[p] + self.scale * self.delta[p])

    def state_dict(self) -> dict:
        index = {p: i for i, p in enumerate(self._params())}
        return {
            "base": self.base.state_dict(),
            "reference": {index[p]: t.clone() for p, t in self.reference.items() if p in index},
            "delta": {index[p]: t.clone() for p, t in self.delta.items() if p in index},
            "v": list(self.v), "sigma": list(self.sigma), "scale": self.scale,
        }  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state["base"])
        params = self._params()
        self.reference = {params[i]: t.to(params[i].device) for i, t in state["reference"].items()}
        self.delta = {params[i]: t.to(params[i].device) for i, t in state["delta"].items()}
        self.v, self.sigma, self.scale = list(state["v"]), list(state["sigma"]), state["scale"]
