"""A DQN agent's interventions: the supervised scenario's ``InterventionPlan`` on the online
Q-network, with schedules in environment steps, plus C-CHAIN.

What each touches (the target network is never edited: it follows at its next refresh, a copy of
the online network, so a reset reaches the bootstrap targets only then, as in dopamine's ReDo):

* before the agent's optimiser exists (``prepare``): spectral norm, L2-Init's and
  shrink-and-perturb's θ₀, NaP's target norms, continual backprop's hooks; TRAC wraps the optimiser;
* in the loss (``penalty``): L2-Init, Parseval, coupled weight decay, and C-CHAIN's
  λ·MSE(Q_θ(x_ref), Q_θ⁻(x_ref)) on a second replay batch;
* after each update (``after_update``, with the update's environment step): decoupled weight
  decay, NaP's projection, shrink-and-perturb / layer reset / full reset every N steps, continual
  backprop, ReGraMa, ReDo every N steps on ``redo.n_examples`` replay states, and plasticity
  injection once at ``plasticity_injection.at_step`` (the target network gets the same
  function-preserving head, so it keeps its outputs and its refresh still copies name for name);
* at a task change (``task_change``, for a scenario whose environment switches): the plan's own.

Every random draw of an intervention comes from the agent's own streams (seeded from its seed),
never from torch's global one, so an agent intervenes the same alone or beside others.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import torch
from torch import nn

from plastilab.agents.dqn_config import DQNConfig
from plastilab.interventions.c_chain import CChain
from plastilab.interventions.plasticity_injection import inject_plasticity
from plastilab.interventions.plan import InterventionPlan


class DQNInterventions:
    """One agent's interventions: its plan, C-CHAIN, and the streams they draw from."""

    def __init__(self, config: DQNConfig, seed: int, fresh_network: Callable[[], nn.Module]) -> None:
        names = [n for n in config.interventions if n != "c_chain"]
        settings = config.intervention_settings
        self.config, self.settings, self.fresh_network = config, settings, fresh_network
        self.plan = InterventionPlan("+".join(names) or "none", settings, seed=seed + 3)
        self.states = torch.Generator().manual_seed(seed + 4)  # replay states for ReDo and C-CHAIN's x_ref
        self.draws = torch.Generator().manual_seed(seed + 5)  # seeds the interventions' weight draws
        c = settings.c_chain
        self.c_chain = CChain(c.coefficient, c.warmup_updates, c.target_ratio, c.window) if "c_chain" in config.interventions else None
        self.injected = False

    def prepare(self, q_network: nn.Module) -> None:
        self.plan.prepare(q_network, fresh_network=self.fresh_network)

    def wrap_optimizer(self, optimizer: torch.optim.Optimizer):
        return self.plan.wrap_optimizer(optimizer)

    def penalty(self, q_network: nn.Module, replay, batch_size: int) -> torch.Tensor | None:
        terms = []
        plan_term = self.plan.penalty(q_network)
        if plan_term is not None:
            terms.append(plan_term)
        if self.c_chain is not None:
            x_ref = replay.sample(self.settings.c_chain.batch_size or batch_size, generator=self.states).observations
            term = self.c_chain.penalty(q_network, x_ref)
            if term is not None:
                terms.append(term)
        return sum(terms[1:], terms[0]) if terms else None

    def after_update(self, agent, step: int, td_loss: torch.Tensor | None = None) -> dict[str, float]:
        """After the optimiser step of environment step ``step``; scalars to log (ReDo's
        recycled units, C-CHAIN's λ)."""
        out: dict[str, float] = {}
        if self.c_chain is not None and td_loss is not None:
            out.update(self.c_chain.after_update(float(td_loss)))
        redo = self.settings.redo
        probe = None
        if self.plan.uses("redo") and redo.every_steps and step % redo.every_steps == 0:
            probe = agent.replay_buffer.sample(redo.n_examples, generator=self.states).observations
        with self._own_stream(agent.device):
            out.update(self.plan.after_step(agent.q_network, agent.optimizer, step, self.config.learning_rate, probe))
            injection = self.settings.plasticity_injection
            if self.plan.uses("plasticity_injection") and not self.injected and step >= injection.at_step:
                self.inject(agent)
        return out

    def task_change(self, agent) -> dict[str, float]:
        """The plan's task-change interventions (a scenario whose environment switches calls it)."""
        probe = agent.replay_buffer.sample(self.settings.redo.n_examples, generator=self.states).observations
        with self._own_stream(agent.device):
            return self.plan.at_task_change(agent.q_network, agent.optimizer, probe)

    def inject(self, agent) -> None:
        inject_plasticity(agent.q_network, agent.optimizer)
        inject_plasticity(agent.target_network, None)  # same function, and names that match the online net's
        self.injected = True

    @contextmanager
    def _own_stream(self, device: torch.device):
        """torch's global stream, seeded from the agent's own, for the draws of one call."""
        seed = int(torch.randint(0, 2**62, (1,), generator=self.draws))
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            yield

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "plan": self.plan.state_dict(),
            "states": self.states.get_state(),
            "draws": self.draws.get_state(),
            "injected": self.injected,
            "c_chain": self.c_chain.state_dict() if self.c_chain is not None else None,
        }

    def rebuild(self, agent, state: dict) -> None:
        """Before the networks' state is loaded: give them the injected heads the saved ones had."""
        if state["injected"] and not self.injected:
            with torch.random.fork_rng(devices=[]):
                self.inject(agent)

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self.plan.load_state_dict(state["plan"], device)
        self.states.set_state(state["states"])
        self.draws.set_state(state["draws"])
        self.injected = state["injected"]
        if self.c_chain is not None:
            self.c_chain.load_state_dict(state["c_chain"], device)

