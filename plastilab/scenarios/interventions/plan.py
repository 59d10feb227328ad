"""One intervention combination, put together: what it changes in the model, in the loss,
after each step, and at each task change. The units themselves live in plastilab.interventions.

At a task change the order is: reset the optimiser state, reset the last layer,
shrink-and-perturb, recycle dormant units (ReDo), so that ReDo scores the network that will
train next.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.l2_init import L2Init
from plastilab.interventions.redo import recycle_dormant_units
from plastilab.interventions.reset_last_layer import reset_last_layer
from plastilab.interventions.reset_optimizer import reset_optimizer_state
from plastilab.interventions.shrink_and_perturb import shrink_and_perturb
from plastilab.interventions.spectral_norm import apply_spectral_norm
from plastilab.interventions.weight_decay import apply_weight_decay
from plastilab.scenarios.interventions.schema import InterventionSettings


class InterventionPlan:
    def __init__(self, combination: str, settings: InterventionSettings, seed: int) -> None:
        self.names = frozenset(combination.split("+")) - {"none"}
        self.settings = settings
        self.noise = torch.Generator().manual_seed(seed)  # shrink-and-perturb's ε
        self.l2_init: L2Init | None = None

    def uses(self, name: str) -> bool:
        return name in self.names

    @property
    def layer_norm(self) -> bool:
        return self.uses("layer_norm")

    def prepare(self, model: nn.Module) -> None:
        """Changes to the model itself, before it gets an optimiser."""
        if self.uses("spectral_norm"):
            apply_spectral_norm(model, include_head=self.settings.spectral_norm.include_head)
        if self.uses("l2_init"):
            self.l2_init = L2Init(model, self.settings.l2_init.coefficient)

    def penalty(self, model: nn.Module) -> torch.Tensor | None:
        return self.l2_init.penalty(model) if self.l2_init is not None else None

    def after_step(self, model: nn.Module, optimizer: torch.optim.Optimizer, step: int, lr: float, probe: torch.Tensor) -> dict[str, float]:
        if self.uses("weight_decay"):
            apply_weight_decay(model.parameters(), lr, self.settings.weight_decay.weight_decay)
        every = self.settings.redo.every_steps
        if self.uses("redo") and every and step % every == 0:
            return self._redo(model, optimizer, probe)
        return {}

    def at_task_change(self, model: nn.Module, optimizer: torch.optim.Optimizer, probe: torch.Tensor) -> dict[str, float]:
        if self.uses("reset_optimizer"):
            reset_optimizer_state(optimizer)
        if self.uses("reset_last_layer"):
            reset_last_layer(model, optimizer)
        if self.uses("shrink_and_perturb"):
            s = self.settings.shrink_and_perturb
            shrink_and_perturb(model, s.shrink, s.noise_std, generator=self.noise)
        if self.uses("redo"):
            return self._redo(model, optimizer, probe)
        return {}

    def state_dict(self) -> dict:
        """What a checkpoint keeps: shrink-and-perturb's noise stream and L2-init's θ_0."""
        return {"noise": self.noise.get_state(), "l2_init": dict(self.l2_init.initial) if self.l2_init is not None else None}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.noise.set_state(state["noise"])
        if self.l2_init is not None:
            self.l2_init.initial = {name: t.to(device) for name, t in state["l2_init"].items()}

    def _redo(self, model: nn.Module, optimizer: torch.optim.Optimizer, probe: torch.Tensor) -> dict[str, float]:
        recycled = recycle_dormant_units(model, optimizer, probe, self.settings.redo.threshold)
        return {"redo/recycled_units": float(sum(recycled.values()))}
