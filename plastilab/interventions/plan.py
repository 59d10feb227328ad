"""One intervention combination, put together: what it changes in the model, in the optimiser, in
the loss, after each step, and at each task change. The units themselves live in
plastilab.interventions; each edits parameters in place and touches optimiser state only through
``interventions.optimizer_state``, so the plan applies to any (network, optimiser) pair whose
network has a unit map (``models.units``) and an output layer named ``head``.

After each step: decoupled weight decay, NaP's projection, the periodic forms (shrink-and-perturb,
layer or full reset, ReDo), continual backprop, ReGraMa.
At a task change the order is: reset the optimiser state, reset the last layer(s) or the whole
network, inject a fresh head, shrink-and-perturb, recycle dormant units (ReDo), so that ReDo
scores the network that will train next.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from plastilab.interventions.continual_backprop import GAINS, ContinualBackprop
from plastilab.interventions.l2_init import L2Init
from plastilab.interventions.layer_reset import full_reset, reset_last_layers
from plastilab.interventions.normalize_and_project import NormalizeAndProject
from plastilab.interventions.parseval import parseval_penalty
from plastilab.interventions.plasticity_injection import inject_plasticity
from plastilab.interventions.redo import recycle_dormant_units
from plastilab.interventions.regrama import recycle_gradient_dormant
from plastilab.interventions.reset_last_layer import reset_last_layer
from plastilab.interventions.reset_optimizer import reset_optimizer_state
from plastilab.interventions.shrink_and_perturb import shrink_and_perturb
from plastilab.interventions.spectral_norm import apply_spectral_norm
from plastilab.interventions.trac import TRAC
from plastilab.interventions.weight_decay import apply_weight_decay, coupled_weight_decay_penalty
from plastilab.interventions.settings import InterventionSettings


class InterventionPlan:
    def __init__(self, combination: str, settings: InterventionSettings, seed: int, activation: str = "relu") -> None:
        self.names = frozenset(combination.split("+")) - {"none"}
        self.settings = settings
        self.noise = torch.Generator().manual_seed(seed)  # shrink-and-perturb's ε, full reset's draws
        self.gain = GAINS.get(self.activation or activation, 1.0)  # Kaiming gain of redrawn units
        self.l2_init: L2Init | None = None
        self.initial: dict[str, torch.Tensor] | None = None  # θ₀, for shrink-and-perturb toward it
        self.cbp: ContinualBackprop | None = None
        self.nap: NormalizeAndProject | None = None
        self.fresh_network: Callable[[], nn.Module] | None = None
        self.task_changes = 0
        self.injections = 0
        self.counts = {"regrama/recycled_units": 0.0}

    def uses(self, name: str) -> bool:
        return name in self.names

    @property
    def layer_norm(self) -> bool:
        return self.uses("layer_norm") or self.uses("nap")  # NaP puts a norm before each nonlinearity

    @property
    def activation(self) -> str | None:
        """The activation the combination imposes on the model (CReLU, Fourier features), if any."""
        return "crelu" if self.uses("crelu") else "dff" if self.uses("dff") else None

    def prepare(self, model: nn.Module, fresh_network: Callable[[], nn.Module] | None = None) -> None:
        """Changes to the model itself, before it gets an optimiser; ``fresh_network`` builds a
        new network of the same architecture (for ``full_reset``)."""
        self.fresh_network = fresh_network
        if self.uses("spectral_norm"):
            apply_spectral_norm(model, include_head=self.settings.spectral_norm.include_head)
        if self.uses("l2_init"):
            self.l2_init = L2Init(model, self.settings.l2_init.coefficient)
        if self.uses("shrink_and_perturb") and self.settings.shrink_and_perturb.target == "init":
            self.initial = {name: p.detach().clone() for name, p in model.named_parameters()}
        if self.uses("nap"):
            self.nap = NormalizeAndProject(model)
        if self.uses("continual_backprop"):
            c = self.settings.continual_backprop
            self.cbp = ContinualBackprop(
                model, replacement_rate=c.replacement_rate, decay=c.decay, maturity=c.maturity, utility=c.utility, gain=self.gain
            )

    def wrap_optimizer(self, optimizer: torch.optim.Optimizer):
        """The optimiser the loop steps: TRAC around the base one when the combination uses it."""
        return TRAC(optimizer) if self.uses("trac") else optimizer

    def penalty(self, model: nn.Module) -> torch.Tensor | None:
        terms = []
        if self.l2_init is not None:
            terms.append(self.l2_init.penalty(model))
        if self.uses("parseval"):
            terms.append(parseval_penalty(model, self.settings.parseval.coefficient, self.settings.parseval.scale))
        if self.uses("weight_decay") and self.settings.weight_decay.coupled:
            terms.append(coupled_weight_decay_penalty(model.parameters(), self.settings.weight_decay.weight_decay))
        return sum(terms[1:], terms[0]) if terms else None

    def after_step(self, model: nn.Module, optimizer, step: int, lr: float, probe: torch.Tensor) -> dict[str, float]:
        s = self.settings
        if self.uses("weight_decay") and not s.weight_decay.coupled:
            apply_weight_decay(model.parameters(), lr, s.weight_decay.weight_decay)
        if self.nap is not None:
            self.nap.project(model)
        if self.uses("shrink_and_perturb") and _due(step, s.shrink_and_perturb.every_steps):
            self._shrink_and_perturb(model)
        if self.uses("layer_reset") and _due(step, s.layer_reset.every_steps):
            reset_last_layers(model, optimizer, s.layer_reset.last_layers)
        if self.uses("full_reset") and _due(step, s.full_reset.every_steps):
            self._full_reset(model, optimizer)
        if self.cbp is not None:
            self.cbp.step(optimizer)
        if self.uses("regrama") and step % s.regrama.every_steps == 0:
            recycled = recycle_gradient_dormant(model, optimizer, s.regrama.threshold, self.gain)
            self.counts["regrama/recycled_units"] += sum(recycled.values())
        if self.uses("redo") and _due(step, s.redo.every_steps):
            return self._redo(model, optimizer, probe)
        return {}

    def at_task_change(self, model: nn.Module, optimizer, probe: torch.Tensor) -> dict[str, float]:
        s = self.settings
        self.task_changes += 1
        if self.uses("reset_optimizer"):
            reset_optimizer_state(optimizer)
        if self.uses("reset_last_layer"):
            reset_last_layer(model, optimizer)
        if self.uses("layer_reset") and not s.layer_reset.every_steps:
            reset_last_layers(model, optimizer, s.layer_reset.last_layers)
        if self.uses("full_reset") and not s.full_reset.every_steps:
            self._full_reset(model, optimizer)
        if self.uses("plasticity_injection") and self.task_changes % s.plasticity_injection.every_task_changes == 0:
            inject_plasticity(model, optimizer)
            self.injections += 1
        if self.uses("shrink_and_perturb") and not s.shrink_and_perturb.every_steps:
            self._shrink_and_perturb(model)
        if self.uses("redo"):
            return self._redo(model, optimizer, probe)
        return {}

    def report(self) -> dict[str, float]:
        """Counters since the last report (continual backprop's and ReGraMa's replaced units,
        continual backprop's utilities), for a logged step."""
        out = {}
        if self.cbp is not None:
            out.update(self.cbp.report())
        if self.uses("regrama"):
            out.update(self.counts)
            self.counts = dict.fromkeys(self.counts, 0.0)
        return out

    def rebuild(self, model: nn.Module, optimizer, state: dict) -> None:
        """Before a checkpoint's model and optimiser state are loaded: give the fresh model the
        structure the saved one had (its injected heads), so that the two match."""
        # The heads' values come from the checkpoint: drawing them must not move the global
        # stream the checkpoint restored (continual backprop and ReDo draw from it later).
        device = next(model.parameters()).device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            for _ in range(state.get("injections", 0)):
                inject_plasticity(model, optimizer)
        self.injections = state.get("injections", 0)

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the noise stream, L2-init's and shrink-and-perturb's θ_0,
        continual backprop's per-unit statistics, the task changes seen and the injections made
        (``rebuild`` makes them again on a fresh model before its state is loaded)."""
        return {
            "injections": self.injections,
            "noise": self.noise.get_state(),
            "l2_init": dict(self.l2_init.initial) if self.l2_init is not None else None,
            "initial": self.initial,
            "cbp": self.cbp.state_dict() if self.cbp is not None else None,
            "task_changes": self.task_changes,
        }

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.noise.set_state(state["noise"])
        if self.l2_init is not None:
            self.l2_init.initial = {name: t.to(device) for name, t in state["l2_init"].items()}
        if state.get("initial") is not None:
            self.initial = {name: t.to(device) for name, t in state["initial"].items()}
        if self.cbp is not None and state.get("cbp") is not None:
            self.cbp.load_state_dict(state["cbp"], device)
        self.task_changes = state.get("task_changes", 0)

    def _shrink_and_perturb(self, model: nn.Module) -> None:
        s = self.settings.shrink_and_perturb
        shrink_and_perturb(model, s.shrink, s.noise_std, generator=self.noise, initial=self.initial)

    def _full_reset(self, model: nn.Module, optimizer) -> None:
        if self.fresh_network is None:
            raise RuntimeError("full_reset needs prepare(model, fresh_network=...)")
        seed = int(torch.randint(0, 2**62, (1,), generator=self.noise))
        with torch.random.fork_rng(devices=[]):  # the training loop's own random stream is untouched
            torch.manual_seed(seed)
            fresh = self.fresh_network()
        full_reset(model, optimizer, fresh)

    def _redo(self, model: nn.Module, optimizer, probe: torch.Tensor) -> dict[str, float]:
        redo = self.settings.redo
        recycled = recycle_dormant_units(model, optimizer, probe, redo.threshold, bias=redo.bias)
        return {"redo/recycled_units": float(sum(recycled.values()))}


def _due(step: int, every: int) -> bool:
    return bool(every) and step % every == 0
