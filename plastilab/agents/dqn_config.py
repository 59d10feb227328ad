"""DQN's hyperparameters as a strict schema (pydantic only: validating a file never imports torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from plastilab.agents.dqn_interventions_config import DQNInterventionSettings, check_dqn_interventions
from plastilab.core.schema import Strict


class DQNConfig(Strict):
    torso: Literal["mlp", "cnn", "nature_cnn"] = Field("mlp", description="the Q-network's torso (nature_cnn: Mnih et al. 2015)")
    hidden: list[int] = Field([256, 256], min_length=1, description="dense widths (after the convolutions for cnn)")
    channels: list[int] = Field([32, 64], min_length=1, description="cnn: channels of each 3x3 stride-2 convolution; nature_cnn: of its three convolutions")
    layer_norm: bool = Field(False, description="layer norm after every hidden layer, before the ReLU")
    optimizer: Literal["adam", "rmsprop"] = Field("adam", description="the TD learner's optimiser")
    learning_rate: float = Field(1e-3, gt=0, description="the optimiser's step size")
    eps: float = Field(1e-8, gt=0, description="the optimiser's epsilon (Adam's or RMSProp's)")
    fused_adam: bool = Field(False, description="Adam through torch's fused kernel: numbers differ from the default by rounding; a population of 32 steps ~1.45x faster on the CPU")
    gamma: float = Field(0.99, ge=0, lt=1, description="the discount factor")
    loss: Literal["huber", "mse"] = Field("huber", description="the TD loss on Q(s, a) - target")
    double_dqn: bool = Field(False, description="pick the bootstrap action with the online network (van Hasselt et al.)")
    buffer_size: int = Field(100_000, ge=1, description="replay buffer capacity, in transitions")
    batch_size: int = Field(32, ge=1, description="transitions per gradient step")
    learning_starts: int = Field(1_000, ge=0, description="environment steps before the first gradient step")
    train_frequency: int = Field(1, ge=1, description="environment steps per gradient step")
    target_network_frequency: int = Field(1_000, ge=1, description="environment steps between target-network refreshes")
    start_e: float = Field(1.0, ge=0, le=1, description="epsilon at the first step")
    end_e: float = Field(0.05, ge=0, le=1, description="epsilon once the schedule is done")
    exploration_fraction: float = Field(0.1, gt=0, le=1, description="fraction of training over which epsilon falls linearly")
    interventions: list[str] = Field([], description="interventions on the online Q-network (docs/interventions.md, RL section), e.g. [\"redo\", \"c_chain\"]")
    intervention_settings: DQNInterventionSettings = Field(default_factory=DQNInterventionSettings, description="each intervention's settings; schedules in environment steps")

    @model_validator(mode="after")
    def _batch_fits(self) -> DQNConfig:
        if self.batch_size > self.buffer_size:
            raise ValueError(f"batch_size ({self.batch_size}) exceeds buffer_size ({self.buffer_size})")
        if self.fused_adam and self.optimizer != "adam":
            raise ValueError("fused_adam is Adam's kernel; set optimizer = \"adam\" or fused_adam = false")
        # Whether the task-change methods may stay is the scenario's to say (refuse_task_change_methods):
        # only it knows if its environment switches.
        problem = check_dqn_interventions(self.interventions, self.intervention_settings, layer_norm=self.layer_norm, task_changes=True)
        if problem is not None:
            raise _refused("DQNConfig", ("interventions",), problem)
        return self


def refuse_task_change_methods(scenario, agents: dict[str, DQNConfig], *, task_changes: bool) -> None:
    """The scenario-level half of the agents' check: without task switches
    (``env.switch_every = 0``) a method that acts only at a task change is refused, naming the
    agent's key, with its step-scheduled alternative."""
    for name, agent in agents.items():
        problem = check_dqn_interventions(agent.interventions, agent.intervention_settings, layer_norm=agent.layer_norm, task_changes=task_changes)
        if problem is not None:
            # the agent's own check let only the task-change methods through, so this is one of them
            raise _refused(type(scenario).__name__, ("agents", name, "interventions"), problem, "; or env.switch_every > 0, whose switches are task changes")


def _refused(model: str, loc: tuple, problem: tuple[int, str, str], hint: str = "") -> ValidationError:
    """``check_dqn_interventions``' problem as the validation error the scenario loader makes one line of."""
    i, found, allowed = problem
    error = PydanticCustomError("invalid_intervention", allowed + hint)
    return ValidationError.from_exception_data(model, [InitErrorDetails(type=error, loc=(*loc, i), input=found)])
