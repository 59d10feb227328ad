"""Which interventions a DQN agent uses, and their settings (pydantic only: no torch).

An agent's table takes ``interventions = ["redo", "c_chain"]`` and, for any of them, settings
under ``[agents.<name>.intervention_settings.<method>]``: the interventions scenario's tables
(``interventions/settings.py``), with schedules in environment steps and defaults fitted
to a DQN (ReDo every 1000 steps on 256 replay states as dopamine's, τ 0.1, recycled bias 0),
plus two a DQN needs: ``plasticity_injection.at_step`` and ``c_chain``.

A DQN agent has no task boundary (a block MDP or an Atari game never changes), so a method that
acts only at a task change must be given a step schedule, and the ones that exist only for a
task change (``reset_last_layer``, ``reset_optimizer``) are refused with the step-scheduled
alternative; ``check_dqn_interventions`` gives the one line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from plastilab.core.schema import Strict
from plastilab.interventions.settings import (
    INTERVENTIONS,
    InterventionSettings,
    PlasticityInjectionConfig,
    RedoConfig,
)

DQN_INTERVENTIONS = tuple(n for n in INTERVENTIONS if n != "none") + ("c_chain",)

# Refused in a DQN agent whatever their settings, with the way to get what was meant.
NOT_FOR_DQN = {
    "reset_last_layer": "it acts at a task change and a DQN agent has none; use layer_reset (last_layers = 1) with every_steps",
    "reset_optimizer": "it acts at a task change and a DQN agent has none",
    "layer_norm": "layer norm is the agent's torso option: set layer_norm = true",
    "two_hot": "two-hot targets need a regression task",
    "crelu": "the Q-network's torso has no activation option",
    "dff": "the Q-network's torso has no activation option",
}
# Acting only at a task change unless given a step schedule: (settings table, key to set).
NEEDS_A_SCHEDULE = {
    "shrink_and_perturb": "every_steps",
    "layer_reset": "every_steps",
    "full_reset": "every_steps",
    "redo": "every_steps",
    "plasticity_injection": "at_step",
}
EXCLUSIVE = (("plasticity_injection", "layer_reset"), ("plasticity_injection", "full_reset"))


class DQNRedoConfig(RedoConfig):
    """dopamine's ReDo for DQN (``labs/redo``): every 1000 updates on 256 replay states, τ = 0.1,
    recycled bias 0. Plasticine's C51: threshold 0.025, every_steps 10000, n_examples 2048."""

    every_steps: int = Field(default=1000, ge=0)
    bias: Literal["fresh", "zero"] = "zero"


class DQNPlasticityInjectionConfig(PlasticityInjectionConfig):
    """Inject a fresh head once, after the update of environment step ``at_step`` (Nikishin et
    al.: once, half way through training). 0: never (refused in a DQN agent)."""

    at_step: int = Field(default=0, ge=0)


class CChainConfig(Strict):
    """C-CHAIN (Tang et al. 2025, ``double_dqn_c_chain.py``): the loss gains
    λ·MSE(Q_θ(x_ref), Q_{θ_prev}(x_ref)) on a second replay batch x_ref, θ_prev the network
    before the previous update. λ = ``coefficient`` for the first ``warmup_updates`` updates,
    then ``target_ratio``·mean|L_TD| / (mean L_reg + 1e-8) over the last ``window`` updates."""

    coefficient: float = Field(default=50.0, ge=0)  # λ₀
    warmup_updates: int = Field(default=10_000, ge=0)
    target_ratio: float = Field(default=0.01, ge=0)  # target_rel_loss_scale
    window: int = Field(default=50_000, ge=1)
    batch_size: int | None = Field(default=None, ge=1)  # x_ref's size; None: the TD batch's


class DQNInterventionSettings(InterventionSettings):
    redo: DQNRedoConfig = Field(default_factory=DQNRedoConfig)
    plasticity_injection: DQNPlasticityInjectionConfig = Field(default_factory=DQNPlasticityInjectionConfig)
    c_chain: CChainConfig = Field(default_factory=CChainConfig)


def check_dqn_interventions(names: list[str], settings: DQNInterventionSettings, *, layer_norm: bool, task_changes: bool = False) -> tuple[int, str, str] | None:
    """The first problem of an agent's intervention list, as (index in the list, found, allowed),
    or None. ``task_changes``: the scenario tells the agent of task boundaries (then the
    task-change methods may keep their task-change schedule)."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name not in DQN_INTERVENTIONS:
            return i, name, "one of " + ", ".join(n for n in DQN_INTERVENTIONS if n not in NOT_FOR_DQN)
        if name in seen:
            return i, name, "each intervention once"
        seen.add(name)
        if name in NOT_FOR_DQN and not (task_changes and name in ("reset_last_layer", "reset_optimizer")):
            return i, name, f"an intervention a DQN agent can use ({NOT_FOR_DQN[name]})"
        if name in NEEDS_A_SCHEDULE and not task_changes:
            key = NEEDS_A_SCHEDULE[name]
            if not getattr(getattr(settings, name), key):
                return i, name, f"{name} with intervention_settings.{name}.{key} > 0 (a DQN agent has no task change to act at)"
        if name == "nap" and not layer_norm:
            return i, name, "nap with layer_norm = true (NaP puts a layer norm before every nonlinearity)"
    clash = next((pair for pair in EXCLUSIVE if set(pair) <= seen), None)
    if clash is not None:
        return names.index(clash[1]), clash[1], f"{clash[0]} or {clash[1]} in one agent, not both"
    return None


# What a population's stack can apply agent by agent: edits of the parameters alone, no
# optimiser state, no penalty (a population's loss is the sum of its agents') and no change of
# the network's structure.
STACKABLE = frozenset({"shrink_and_perturb", "weight_decay"})


def unstackable_names(config) -> list[str]:
    """The interventions of agent ``config`` (a ``DQNConfig``) that a population cannot apply
    (coupled weight decay is a penalty)."""
    coupled = config.intervention_settings.weight_decay.coupled
    return [n for n in config.interventions if n not in STACKABLE or (n == "weight_decay" and coupled)]
