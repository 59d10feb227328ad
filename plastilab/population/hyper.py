"""Per-agent hyperparameters: one value for every agent, or one value per agent.

A stacked optimiser keeps each hyperparameter as a float64 tensor ``[N]`` on the host (the
numbers the agents were given, written to checkpoints). For the step it needs them in the
parameters' dtype and device, shaped ``[N, 1]`` to broadcast over a parameter viewed as
``[N, -1]``. Where every agent has the same value it hands out a Python float instead: the
elementwise kernels then take the very scalar path ``torch.optim`` takes (some of which, like
``add(alpha=...)``, round once where a tensor form would round twice), and read no extra tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Value = float | Sequence[float] | torch.Tensor


def per_agent(value: Value, n_agents: int, name: str) -> torch.Tensor:
    """``value`` as a float64 host tensor ``[n_agents]``; a bad length or type is one line naming ``name``."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: found {value!r}; allowed: a number or {n_agents} numbers (one per agent)")
    if isinstance(value, (int, float)):
        return torch.full((n_agents,), float(value), dtype=torch.float64)
    try:
        values = torch.as_tensor(value, dtype=torch.float64).detach().to("cpu").clone()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name}: found {type(value).__name__}; allowed: a number or {n_agents} numbers (one per agent)") from None
    if values.dim() == 0:
        return values.expand(n_agents).clone()
    if values.shape != (n_agents,):
        raise ValueError(f"{name}: found shape {tuple(values.shape)}; allowed: a number or {n_agents} numbers (one per agent)")
    return values


class AgentColumns:
    """The hyperparameters of N agents, each readable as a float (all agents equal) or a column.

    ``value(name)`` is what a step uses; columns are cast and moved once and cached until a
    hyperparameter changes (``set``), so a step prepares nothing for hyperparameters that hold.
    """

    def __init__(self, values: dict[str, torch.Tensor], dtype: torch.dtype, device: torch.device) -> None:
        self.values = values
        self.dtype, self.device = dtype, device
        self._cache: dict[str, float | torch.Tensor] = {}

    def set(self, name: str, value: Value) -> None:
        n = len(next(iter(self.values.values())))
        self.values[name] = per_agent(value, n, name)
        self._cache.clear()

    def value(self, name: str) -> float | torch.Tensor:
        """The Python float all agents share, or the ``[N, 1]`` column (params' dtype and device)."""
        if name not in self._cache:
            self._cache[name] = self.column_or_float(self.values[name])
        return self._cache[name]

    def derived(self, name: str, compute) -> float | torch.Tensor:
        """A value computed from the float64 ones (e.g. ``1 - beta2``, in float64 as Python does
        it), cached like the hyperparameters themselves."""
        if name not in self._cache:
            self._cache[name] = self.column_or_float(compute(self.values))
        return self._cache[name]

    def column_or_float(self, values: torch.Tensor) -> float | torch.Tensor:
        if bool((values == values[0]).all()):
            return float(values[0])
        # float64 -> dtype rounds once, as the kernels round a Python float scalar
        return values.to(device=self.device, dtype=self.dtype).view(-1, 1)

    def uniform(self, name: str) -> bool:
        return not isinstance(self.value(name), torch.Tensor)
