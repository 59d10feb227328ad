"""What every stacked optimiser shares: parameters with a leading agent axis, per-agent
hyperparameters and step counts, per-parameter state, and checkpoints of all or one agent.

A step touches each stacked tensor viewed as ``[N, -1]`` (agent ``i`` is row ``i``), so its
operator count depends on how many parameter tensors there are, never on how many agents: a
stack of N agents dispatches the operators of one agent's step, each over N times the numbers.
Temporaries live in two scratch buffers sized for the largest parameter and reused by every
parameter and step: a fresh tensor the size of a big stack would cost a page fault per page
each step, which on a CPU costs more than the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from plastilab.population.hyper import AgentColumns, Value, per_agent


class StackedOptimizer:
    """Base of ``StackedAdam``, ``StackedRMSprop`` and ``StackedSGD``.

    ``kind`` names the optimiser in checkpoints; ``defaults`` gives each hyperparameter's default
    (the keys are the hyperparameters it takes); ``state_names`` the per-parameter state tensors.
    """

    kind = ""
    defaults: dict[str, float] = {}
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Sequence[torch.Tensor], **hyper: Value) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{self.kind}: no parameters to optimise")
        first = self.params[0]
        self.n_agents = first.shape[0] if first.dim() else 0
        for p in self.params:
            if p.dim() == 0 or p.shape[0] != self.n_agents or p.dtype != first.dtype or p.device != first.device:
                raise ValueError(f"{self.kind}: every parameter needs the same leading agent axis ({self.n_agents}), dtype and device")
            _rows(p)  # fails now, with the reason, rather than at the first step
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            raise ValueError(f"{self.kind}: unknown hyperparameter {unknown[0]!r}; allowed: {', '.join(self.defaults)}")
        values = {name: per_agent(hyper.get(name, default), self.n_agents, name) for name, default in self.defaults.items()}
        self._check(values)
        self.hyper = AgentColumns(values, first.dtype, first.device)
        self.steps = torch.zeros(self.n_agents, dtype=torch.float64)  # on the host: no device sync to read
        self.state: list[dict[str, torch.Tensor]] = [
            {name: torch.zeros_like(p, memory_format=torch.contiguous_format) for name in self.state_names} for p in self.params
        ]
        self._views: list | None = None  # made at the first step (a fused step needs none)
        self._shared_step: float | None = 0.0  # the step count all agents share (None: they differ)

    def _rows_of_everything(self) -> list:
        """Each parameter's rows, state rows and scratch rows, viewed once: a step makes no views
        but its gradients' (the parameters are updated in place, never replaced)."""
        if self._views is None:
            largest = max(p.numel() for p in self.params)
            scratch = [torch.empty(largest, dtype=self.params[0].dtype, device=self.params[0].device) for _ in range(2)]
            self._views = [
                (_rows(p), {k: _rows(t) for k, t in state.items()}, [s[: p.numel()].view(self.n_agents, -1) for s in scratch])
                for p, state in zip(self.params, self.state)
            ]
        return self._views

    def _check(self, values: dict[str, torch.Tensor]) -> None:
        """Range checks of a subclass (one line naming the hyperparameter)."""

    def step(self) -> None:
        """One step of every agent, each on its own slice of ``.grad`` (parameters without a
        gradient are skipped, their state held)."""
        self.steps += 1
        if self._shared_step is not None:
            self._shared_step += 1
        columns = self._per_step_values()
        with torch.no_grad():
            for p, (rows, state, scratch) in zip(self.params, self._rows_of_everything()):
                if p.grad is not None:
                    self._update(rows, _rows(p.grad), state, scratch, columns)

    def _per_step_values(self) -> dict[str, float | torch.Tensor]:
        """Values a step derives from the hyperparameters and step counts (bias corrections)."""
        return {}

    def _update(self, p, g, state, scratch, columns) -> None:
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def moments(self, name: str) -> list[torch.Tensor]:
        """The state tensor ``name`` (e.g. ``exp_avg_sq``) of every parameter; [] if this kind has none."""
        return [state[name] for state in self.state] if name in self.state_names else []

    def set_hyper(self, name: str, value: Value) -> None:
        if name not in self.defaults:
            raise ValueError(f"{self.kind}: unknown hyperparameter {name!r}; allowed: {', '.join(self.defaults)}")
        values = dict(self.hyper.values)
        values[name] = per_agent(value, self.n_agents, name)
        self._check(values)
        self.hyper.set(name, value)

    def uniform_steps(self) -> float | None:
        """The step count every agent shares, or None when agents differ (one was reset)."""
        return self._shared_step

    def _steps_changed(self) -> None:
        self._shared_step = float(self.steps[0]) if bool((self.steps == self.steps[0]).all()) else None

    # Checkpoints: plain tensors, floats and strings only (loadable with weights_only=True).

    def state_dict(self) -> dict:
        return {
            "kind": self.kind,
            "hyper": {name: v.clone() for name, v in self.hyper.values.items()},
            "steps": self.steps.clone(),
            "state": [{name: t.detach().clone() for name, t in state.items()} for state in self.state],
        }

    @torch.no_grad()
    def load_state_dict(self, saved: Mapping) -> None:
        if saved.get("kind") != self.kind:
            raise ValueError(f"optimizer state: found kind {saved.get('kind')!r}; allowed: {self.kind!r} (the optimiser that wrote it)")
        if len(saved["state"]) != len(self.state):
            raise ValueError(f"optimizer state: found {len(saved['state'])} parameters; allowed: {len(self.state)}")
        for state, loaded in zip(self.state, saved["state"]):
            for name, t in state.items():
                if tuple(loaded[name].shape) != tuple(t.shape):
                    raise ValueError(f"optimizer state: {name} has shape {tuple(loaded[name].shape)}; allowed: {tuple(t.shape)}")
                t.copy_(loaded[name])
        for name in self.defaults:
            self.hyper.set(name, saved["hyper"][name])
        self.steps.copy_(saved["steps"])
        self._steps_changed()

    def agent_state(self, i: int) -> dict:
        """Agent ``i`` alone: its hyperparameters, step count and state rows (copies)."""
        return {
            "kind": self.kind,
            "hyper": {name: float(v[i]) for name, v in self.hyper.values.items()},
            "step": float(self.steps[i]),
            "state": [{name: t[i].detach().clone() for name, t in state.items()} for state in self.state],
        }

    @torch.no_grad()
    def load_agent_state(self, i: int, saved: Mapping) -> None:
        """Agent ``i`` from ``agent_state`` of this or another stack of the same shapes and kind."""
        if saved.get("kind") != self.kind:
            raise ValueError(f"agent optimizer state: found kind {saved.get('kind')!r}; allowed: {self.kind!r}")
        for state, loaded in zip(self.state, saved["state"], strict=True):
            for name, t in state.items():
                t[i].copy_(loaded[name])
        for name in self.defaults:
            values = self.hyper.values[name].clone()
            values[i] = saved["hyper"][name]
            self.hyper.set(name, values)
        self.steps[i] = saved["step"]
        self._steps_changed()

    @torch.no_grad()
    def reset_agent(self, i: int) -> None:
        """Agent ``i`` starts afresh: state zero, step count 0 (as a new ``torch.optim`` optimiser)."""
        for state in self.state:
            for t in state.values():
                t[i].zero_()
        self.steps[i] = 0
        self._steps_changed()


def _rows(t: torch.Tensor) -> torch.Tensor:
    """``t`` viewed as ``[N, -1]``, sharing its memory (an update through the view is an update of ``t``)."""
    try:
        return t.view(t.shape[0], -1)
    except RuntimeError:
        raise ValueError(f"a stacked tensor of shape {tuple(t.shape)} and strides {t.stride()} cannot be viewed as one row per agent; make each agent's slice contiguous") from None
