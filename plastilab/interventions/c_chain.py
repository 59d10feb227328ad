"""C-CHAIN (Tang et al., ICML 2025): reduce the churn of a value network's outputs on states it
is not being trained on.

At every update the loss gains

    λ · MSE(Q_θ(x_ref), Q_θ⁻(x_ref))

with x_ref a second replay batch (not the TD batch) and θ⁻ the network *before the previous
update* (the authors' ``reg_his_idx = 2``: their history's last entry is the current network,
the one before it the network one update ago). Only Q_θ is differentiated. λ is ``coefficient``
(λ₀ = 50) for the first ``warmup_updates`` updates, then adapts so that the regulariser stays a
fixed fraction of the TD loss:

    λ = target_ratio · mean|L_TD| / (mean L_reg + 1e-8)     (means over the last ``window`` updates)

with target_ratio 0.01 and window 50 000 in the authors' DDQN. Read from
bluecontra/C-CHAIN ``crl_minatar/agents/double_dqn_c_chain.py`` (5c31930); implemented from
these equations.
"""

from __future__ import annotations

from collections import deque

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call


class RunningWindowMean:
    """The mean of the last ``size`` values added, in O(1) per value."""

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.total = 0.0

    def add(self, value: float) -> None:
        if len(self.values) == self.values.maxlen:
            self.total -= self.values[0]
        self.values.append(value)
        self.total += value

    def mean(self) -> float:
        return self.total / max(len(self.values), 1)


class CChain:
    def __init__(self, coefficient: float = 50.0, warmup_updates: int = 10_000, target_ratio: float = 0.01, window: int = 50_000) -> None:
        self.coefficient, self.warmup_updates, self.target_ratio = coefficient, warmup_updates, target_ratio
        self.td = RunningWindowMean(window)
        self.reg = RunningWindowMean(window)
        self.updates = 0
        self.previous: dict[str, torch.Tensor] | None = None  # θ one update ago (θ⁻ of the next update)
        self.last_reg: torch.Tensor | None = None

    def weight(self) -> float:
        """λ for this update."""
        if self.updates < self.warmup_updates:
            return self.coefficient
        return self.target_ratio * self.td.mean() / (self.reg.mean() + 1e-8)

    def regulariser(self, model: nn.Module, x_ref: torch.Tensor) -> torch.Tensor | None:
        """MSE(Q_θ(x_ref), Q_θ⁻(x_ref)) (differentiable in θ only), and remember θ as the next
        update's θ⁻; None at the first update or after the network's shape changed."""
        current = {name: p.detach().clone() for name, p in model.named_parameters()}
        reference, self.previous = self.previous, current
        if reference is None or reference.keys() != current.keys():
            self.last_reg = None
            return None
        buffers = dict(model.named_buffers())
        with torch.no_grad():
            q_before = functional_call(model, {**reference, **buffers}, (x_ref,))
        reg = F.mse_loss(model(x_ref), q_before)
        self.last_reg = reg.detach()
        return reg

    def penalty(self, model: nn.Module, x_ref: torch.Tensor) -> torch.Tensor | None:
        reg = self.regulariser(model, x_ref)
        return None if reg is None else self.weight() * reg

    def after_update(self, td_loss: float) -> dict[str, float]:
        """Record this update's |L_TD| and L_reg for λ's window; λ and L_reg for the log."""
        out = {"c_chain/lambda": self.weight()}
        self.updates += 1
        self.td.add(abs(td_loss))
        if self.last_reg is not None:
            reg = float(self.last_reg)
            self.reg.add(reg)
            out["c_chain/regulariser"] = reg
        return out

    def state_dict(self) -> dict:
        return {
            "updates": self.updates,
            "previous": self.previous,
            "td": list(self.td.values),
            "reg": list(self.reg.values),
        }

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.updates = state["updates"]
        self.previous = None if state["previous"] is None else {k: v.to(device) for k, v in state["previous"].items()}
        for window, values in ((self.td, state["td"]), (self.reg, state["reg"])):
            window.values.clear()
            window.total = 0.0
            for v in values:
                window.add(float(v))
