"""Adam, RMSProp (centred) and SGD for stacked parameters, each agent with its own hyperparameters.

Each step follows the operation order of ``torch.optim``'s single-tensor implementation (the
one it runs on a CPU), so agent ``i``'s numbers are those of a ``torch.optim`` optimiser stepping
agent ``i`` alone. Where a hyperparameter differs between agents, a kernel that takes it as a
scalar (``addcmul(value=c)``, ``addcdiv(value=c)``) gets it through a product computed first:
``(c * a) * b`` is the very product the kernel forms, so the result is the same. Two kernels fuse a
scalar product with an add into one rounding (``add(alpha=c)``, the vectorised FMA): with
per-agent values (SGD's and momentum RMSProp's learning rate, weight decay) the stack rounds
twice, at most an ulp a step away from ``torch.optim``; with one value for all agents the stack
takes the scalar form and is exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from plastilab.population.hyper import Value
from plastilab.population.optim_base import StackedOptimizer


class StackedAdam(StackedOptimizer):
    """Adam (``torch.optim.Adam``, no amsgrad), per agent: ``lr``, ``beta1``, ``beta2``, ``eps``, ``weight_decay``.

    ``fused=True`` runs torch's fused Adam kernel (one pass over each tensor's parameters,
    gradient and moments, where the op-by-op step makes seven): each agent's step then equals
    ``torch.optim.Adam(fused=True)``'s. The kernel takes one set of hyperparameters and one step
    count a call: agents that share them (usually all) go in one call on the whole stacks; where
    they differ, each group of agents that agree goes in a call on their rows.
    """

    kind = "adam"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Sequence[torch.Tensor], *, fused: bool = False, **hyper: Value) -> None:
        super().__init__(params, **hyper)
        self.fused = fused
        first = self.params[0]
        # The kernel reads the step count from a float32 tensor (torch.optim's fused form keeps one so)
        self._fused_step = torch.zeros((), dtype=torch.float32, device=first.device)

    def step(self) -> None:
        if not self.fused:
            return super().step()
        self.steps += 1
        if self._shared_step is not None:
            self._shared_step += 1
        live = [k for k, p in enumerate(self.params) if p.grad is not None]
        with torch.no_grad():
            for agents, hyper in self._groups():
                p, g, m, v = [], [], [], []
                for k in live:
                    whole = (self.params[k], self.params[k].grad, self.state[k]["exp_avg"], self.state[k]["exp_avg_sq"])
                    for tensors, t in zip((p, g, m, v), whole):
                        tensors.extend([t] if agents is None else [t[i] for i in agents])
                self._fused_step.fill_(self._shared_step if agents is None else float(self.steps[agents[0]]))
                torch._fused_adam_(
                    p, g, m, v, [], [self._fused_step] * len(p),
                    lr=hyper["lr"], beta1=hyper["beta1"], beta2=hyper["beta2"], weight_decay=hyper["weight_decay"],
                    eps=hyper["eps"], amsgrad=False, maximize=False, grad_scale=None, found_inf=None,
                )

    def _groups(self) -> list[tuple[list[int] | None, dict[str, float]]]:
        """The calls of a fused step: ``(None, hyper)`` when every agent shares hyperparameters
        and step count, else ``(agent indices, hyper)`` for each group of agents that agree."""
        if self._shared_step is not None and all(self.hyper.uniform(n) for n in self.defaults):
            return [(None, {n: float(v[0]) for n, v in self.hyper.values.items()})]
        keys = torch.stack([*self.hyper.values.values(), self.steps]).T.tolist()  # one row per agent
        groups: dict[tuple, list[int]] = {}
        for i, key in enumerate(keys):
            groups.setdefault(tuple(key), []).append(i)
        return [(agents, dict(zip(self.defaults, key))) for key, agents in groups.items()]

    def _check(self, values):
        for name in ("beta1", "beta2"):
            if not bool(((values[name] >= 0) & (values[name] < 1)).all()):
                raise ValueError(f"{name}: every agent's value must be in [0, 1)")

    def _per_step_values(self):
        h = self.hyper.values
        step = self.uniform_steps()
        if step is not None and all(self.hyper.uniform(n) for n in ("lr", "beta1", "beta2")):
            # As torch.optim computes them: Python floats, one for every agent.
            lr, beta1, beta2 = float(h["lr"][0]), float(h["beta1"][0]), float(h["beta2"][0])
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
            return {"neg_step_size": -(lr / (1 - beta1**step)), "bias_correction2_sqrt": bias_correction2_sqrt}
        # Per agent, in float64 on the host as torch.optim computes them in Python, then rounded once.
        step_size = h["lr"] / (1 - h["beta1"] ** self.steps)
        bias_correction2_sqrt = (1 - h["beta2"] ** self.steps) ** 0.5
        both = torch.stack([-step_size, bias_correction2_sqrt]).to(device=self.hyper.device, dtype=self.hyper.dtype)
        return {"neg_step_size": both[0].view(-1, 1), "bias_correction2_sqrt": both[1].view(-1, 1)}

    def _update(self, p, g, state, scratch, columns):
        hyper = self.hyper
        one_minus_beta1 = hyper.derived("1-beta1", lambda v: 1 - v["beta1"])
        one_minus_beta2 = hyper.derived("1-beta2", lambda v: 1 - v["beta2"])
        g = _with_weight_decay(g, p, hyper.value("weight_decay"))
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        a, b = scratch
        exp_avg.lerp_(g, one_minus_beta1)
        exp_avg_sq.mul_(hyper.value("beta2"))
        _addcmul_(exp_avg_sq, g, g, one_minus_beta2, a)
        denom = torch.sqrt(exp_avg_sq, out=a).div_(columns["bias_correction2_sqrt"]).add_(hyper.value("eps"))
        _addcdiv_(p, exp_avg, denom, columns["neg_step_size"], b)


class StackedRMSprop(StackedOptimizer):
    """Centred RMSProp (``torch.optim.RMSprop(centered=True)``, DQN's as Dopamine runs it), per agent:
    ``lr``, ``alpha``, ``eps``, ``weight_decay``; ``momentum`` one value for all agents."""

    kind = "rmsprop"
    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0}
    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def _check(self, values):
        momentum = values["momentum"]
        if not bool((momentum == momentum[0]).all()):
            # torch.optim takes another path (and rounding) with momentum 0 than above it
            raise ValueError("momentum: found different values per agent; allowed: one value for all agents")
        if not bool(((values["alpha"] >= 0) & (values["alpha"] <= 1)).all()):
            raise ValueError("alpha: every agent's value must be in [0, 1]")

    def _update(self, p, g, state, scratch, columns):
        hyper = self.hyper
        one_minus_alpha = hyper.derived("1-alpha", lambda v: 1 - v["alpha"])
        g = _with_weight_decay(g, p, hyper.value("weight_decay"))
        square_avg, grad_avg = state["square_avg"], state["grad_avg"]
        a, b = scratch
        square_avg.mul_(hyper.value("alpha"))
        _addcmul_(square_avg, g, g, one_minus_alpha, a)
        grad_avg.lerp_(g, one_minus_alpha)
        avg = torch.addcmul(square_avg, grad_avg, grad_avg, value=-1, out=a).sqrt_().add_(hyper.value("eps"))
        neg_lr = hyper.derived("-lr", lambda v: -v["lr"])
        momentum = float(hyper.values["momentum"][0])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(g, avg)
            _add_scaled_(p, buf, neg_lr, b)
        else:
            _addcdiv_(p, g, avg, neg_lr, b)


class StackedSGD(StackedOptimizer):
    """SGD (``torch.optim.SGD``, dampening 0, no Nesterov), per agent: ``lr``, ``momentum``, ``weight_decay``.

    The momentum buffer starts at zero where ``torch.optim`` starts it at the first gradient:
    ``0 * momentum + g`` is ``g`` exactly, so the two agree (and an agent with momentum 0 is plain SGD).
    """

    kind = "sgd"
    defaults = {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0}
    state_names = ("momentum_buffer",)

    def _check(self, values):
        if not bool(((values["momentum"] >= 0) & (values["momentum"] < 1)).all()):
            raise ValueError("momentum: every agent's value must be in [0, 1)")

    def _update(self, p, g, state, scratch, columns):
        hyper = self.hyper
        g = _with_weight_decay(g, p, hyper.value("weight_decay"))
        momentum = hyper.value("momentum")
        if not (isinstance(momentum, float) and momentum == 0):
            g = state["momentum_buffer"].mul_(momentum).add_(g)
        _add_scaled_(p, g, hyper.derived("-lr", lambda v: -v["lr"]), scratch[1])


def _with_weight_decay(g: torch.Tensor, p: torch.Tensor, weight_decay: float | torch.Tensor) -> torch.Tensor:
    """``g + weight_decay * p`` as torch.optim forms it (a new tensor: ``.grad`` stays the gradient)."""
    if isinstance(weight_decay, float):
        return g if weight_decay == 0 else g.add(p, alpha=weight_decay)
    return torch.addcmul(g, p, weight_decay)


def _addcmul_(target, t1, t2, value, scratch):
    """``target += value * t1 * t2`` with ``value`` a float or an ``[N, 1]`` column."""
    if isinstance(value, float):
        target.addcmul_(t1, t2, value=value)
    else:
        target.addcmul_(torch.mul(t1, value, out=scratch), t2)  # (value * t1) * t2: the kernel's product


def _addcdiv_(target, t1, t2, value, scratch):
    """``target += value * t1 / t2`` with ``value`` a float or an ``[N, 1]`` column."""
    if isinstance(value, float):
        target.addcdiv_(t1, t2, value=value)
    else:
        target.addcdiv_(torch.mul(t1, value, out=scratch), t2)  # (value * t1) / t2: the kernel's order


def _add_scaled_(target, t, value, scratch):
    """``target += value * t``: torch's ``add_(alpha=)`` (one rounding, fused) for a float; two roundings for a column."""
    if isinstance(value, float):
        target.add_(t, alpha=value)
    else:
        target.add_(torch.mul(t, value, out=scratch))


OPTIMIZERS: dict[str, type[StackedOptimizer]] = {"adam": StackedAdam, "rmsprop": StackedRMSprop, "sgd": StackedSGD}


def make_stacked_optimizer(kind: str, params: Sequence[torch.Tensor], hyper: Mapping[str, Value], *, fused: bool = False) -> StackedOptimizer:
    """The stacked optimiser ``kind`` over ``params``; ``hyper`` maps names to a float or one value
    per agent (Adam also takes ``betas`` as a pair); ``fused``: Adam's fused kernel (see ``StackedAdam``)."""
    if kind not in OPTIMIZERS:
        raise ValueError(f"optimizer: found {kind!r}; allowed: {', '.join(OPTIMIZERS)}")
    hyper = dict(hyper)
    if kind == "adam" and "betas" in hyper:
        hyper["beta1"], hyper["beta2"] = hyper.pop("betas")
    if kind == "adam":
        return StackedAdam(params, fused=fused, **hyper)
    if fused:
        raise ValueError(f"fused: only adam has a fused step; found optimizer {kind!r}")
    return OPTIMIZERS[kind](params, **hyper)
