"""Continual backprop (Dohare et al., Nature 2024): keep replacing the least useful mature units.

Per hidden unit i (probe unit, for CReLU/DFF each copy), decay η, maturity m, replacement rate ρ,
after every optimiser step on the batch h of that step's forward pass:

    a_i ← a_i + 1                                       age
    f_i ← η f_i + (1−η) mean_batch h_i;  f̂_i = f_i / (1 − η^{a_i})     mean activation, bias-corrected
    y_i = mean_k|w_out[k,i]| · mean_batch|h_i|                           "contribution"
    y_i = mean_k|w_out[k,i]| · mean_batch|h_i − f̂_i| / mean_j|w_in[i,j]|  "adaptable_contribution" (LoP's default)
    u_i ← η u_i + (1−η) y_i;  û_i = u_i / (1 − η^{a_i})                   utility, ranked bias-corrected

The eligible units are those with a_i > m; r accumulates ρ·|eligible| across steps, and
n = ⌊r⌋ of them (r ← r − n), those with the smallest û, are replaced: incoming weights
U(−b, b) with b = gain·√(3/fan_in), incoming bias 0, the next layer's bias += w_out[:, i]·f̂_i (it
absorbs the unit's mean contribution), outgoing weights 0, a_i = f_i = u_i = 0, the optimiser's
moments of those weights zeroed and the unit's norm scale/shift reset. A unit shown twice
(CReLU) is one incoming row: its utility is the sum over its copies. A replaced unit whose
activation was constant leaves the output exactly as it was; into a following conv with zero
padding the bias takes the kernel's full sum, exact away from the borders only (as in LoP).

Adam keeps one step count per tensor, so a replaced entry's first update is not bias-corrected
from step 1 as in the authors' per-entry AdamGnT; its moments start at zero.

The batch activations come from forward hooks that record only while gradients are on (the
training forward), so evaluation passes never overwrite them.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.unit_surgery import (
    absorb_into_next_bias,
    outgoing_weight,
    refresh_incoming,
    zero_outgoing,
)
from plastilab.instruments.tensor_stats import as_units
from plastilab.models.units import UnitLayer, unit_layers

GAINS = {"relu": 2**0.5, "crelu": 2**0.5, "tanh": 5 / 3, "sigmoid": 1.0}


class ContinualBackprop:
    def __init__(
        self,
        model: nn.Module,
        *,
        replacement_rate: float = 1e-4,
        decay: float = 0.99,
        maturity: int = 100,
        utility: str = "adaptable_contribution",
        gain: float = 2**0.5,
        layers: list[UnitLayer] | None = None,
    ) -> None:
        """``layers``: the unit layers it looks after (default: every one of ``model``)."""
        self.rate, self.decay, self.maturity, self.utility, self.gain = replacement_rate, decay, maturity, utility, gain
        self.model, self.fixed_layers = model, layers is not None
        self.layers = unit_layers(model) if layers is None else layers
        self.state: dict[str, dict[str, torch.Tensor | float]] = {}
        for layer in self.layers:
            n = layer.incoming.weight.shape[0] * layer.copies if hasattr(layer.incoming, "weight") else 0
            device = next(layer.incoming.parameters()).device
            zeros = lambda: torch.zeros(n, dtype=torch.float64, device=device)  # noqa: E731
            self.state[layer.name] = {"age": zeros(), "mean": zeros(), "utility": zeros(), "owed": 0.0}
        self._batch: dict[str, torch.Tensor] = {}
        self._handles = [layer.probe.register_forward_hook(self._recorder(layer)) for layer in self.layers]
        self.replaced_since_report = 0

    def _recorder(self, layer: UnitLayer):
        def hook(module, inputs, output):
            # A deep copy of the network (the probe's twin, a Brownian or target copy) carries
            # this hook along; only the network's own forward is its training batch.
            if module is not layer.probe:
                return
            if torch.is_grad_enabled():  # the training forward, not an evaluation
                a = layer.activation(output) if layer.activation is not None else output
                self._batch[layer.name] = as_units(a.detach()).double()

        return hook

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    @torch.no_grad()
    def step(self, optimizer) -> dict[str, int]:
        """Update ages, means and utilities from the last training batch, then replace; returns
        the units replaced per layer."""
        replaced: dict[str, int] = {}
        if not self.fixed_layers:  # the head may have been replaced (injection): read the map again
            self.layers = unit_layers(self.model)
        for layer in self.layers:
            h = self._batch.pop(layer.name, None)
            if h is None:
                continue
            s = self.state[layer.name]
            self._update(layer, s, h)
            chosen = self._choose(layer, s)
            if chosen is not None:
                self._replace(layer, s, chosen, optimizer)
                replaced[layer.name] = int(chosen.sum())
        self.replaced_since_report += sum(replaced.values())
        return replaced

    def bias_corrected(self, s: dict, key: str) -> torch.Tensor:
        correction = 1 - self.decay ** s["age"]
        return torch.where(correction > 0, s[key] / correction.clamp_min(1e-300), torch.zeros_like(s[key]))

    def _update(self, layer: UnitLayer, s: dict, h: torch.Tensor) -> None:
        eta = self.decay
        s["age"] += 1
        s["mean"].mul_(eta).add_(h.mean(dim=0), alpha=1 - eta)
        w_out = outgoing_weight(layer, h.shape[1]).abs().double().mean(dim=(0, 2))
        if self.utility == "contribution":
            y = w_out * h.abs().mean(dim=0)
        else:
            w_in = layer.incoming.weight.detach().abs().double().flatten(1).mean(dim=1).repeat(layer.copies)
            y = w_out * (h - self.bias_corrected(s, "mean")).abs().mean(dim=0) / w_in.clamp_min(1e-12)
        s["utility"].mul_(eta).add_(y, alpha=1 - eta)

    def unit_utility(self, layer: UnitLayer) -> torch.Tensor:
        """û per incoming unit (summed over a unit's copies)."""
        u = self.bias_corrected(self.state[layer.name], "utility")
        return u.view(layer.copies, -1).sum(dim=0)

    def _choose(self, layer: UnitLayer, s: dict) -> torch.Tensor | None:
        age = s["age"].view(layer.copies, -1)[0]
        eligible = age > self.maturity
        s["owed"] += self.rate * int(eligible.sum())
        n = int(s["owed"])
        if n < 1:
            return None
        s["owed"] -= n
        utility = self.unit_utility(layer).masked_fill(~eligible, float("inf"))
        chosen = torch.zeros_like(eligible)
        chosen[torch.argsort(utility, stable=True)[:n]] = True
        return chosen

    def _replace(self, layer: UnitLayer, s: dict, units: torch.Tensor, optimizer) -> None:
        mean = self.bias_corrected(s, "mean").to(layer.incoming.weight.dtype)
        absorb_into_next_bias(layer, units, mean)
        refresh_incoming(layer, units, optimizer, bias="zero", gain=self.gain)
        zero_outgoing(layer, units, optimizer)
        columns = units.repeat(layer.copies) if layer.copies > 1 else units
        for key in ("age", "mean", "utility"):
            s[key][columns] = 0

    def report(self) -> dict[str, float]:
        """``cbp/replaced_units`` since the last report and each layer's û min and median."""
        out = {"cbp/replaced_units": float(self.replaced_since_report)}
        self.replaced_since_report = 0
        for layer in self.layers:
            u = self.unit_utility(layer)
            out[f"cbp/utility_min/{layer.name}"] = float(u.min())
            out[f"cbp/utility_median/{layer.name}"] = float(u.median())
        return out

    def state_dict(self) -> dict:
        return {name: {k: (v.clone() if torch.is_tensor(v) else v) for k, v in s.items()} for name, s in self.state.items()}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.state = {name: {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in s.items()} for name, s in state.items()}
