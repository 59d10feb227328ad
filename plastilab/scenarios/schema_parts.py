"""What the kinds' schemas share: a kind whose runner checkpoints, the agents' table of the DQN
kinds, and one wrong key as a validation error. Imports pydantic only (``validate`` stays light)."""

from __future__ import annotations

from pydantic import ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from plastilab.core.schema import ScenarioConfig, agent_names_as_series


class CheckpointingScenario(ScenarioConfig):
    """A kind whose runner saves and restores its whole state (``checkpoint_every``)."""

    supports_checkpoints = True


class AgentsScenario(CheckpointingScenario):
    """A kind of DQN agents, one ``[agents.<name>]`` table (one series) each, trained for
    ``training.total_steps`` environment steps."""

    _plain_names = field_validator("agents", check_fields=False)(agent_names_as_series)

    def total_steps(self) -> int:
        return self.training.total_steps  # type: ignore[attr-defined]


def invalid_key(model: str, loc: tuple, found: object, allowed: str, error_type: str) -> ValidationError:
    """An error at ``loc`` that the scenario loader turns into 'KEY: found X; allowed: ALLOWED'."""
    error = PydanticCustomError(error_type, allowed)
    return ValidationError.from_exception_data(model, [InitErrorDetails(type=error, loc=loc, input=found)])
