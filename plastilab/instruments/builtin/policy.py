"""``[instruments.policy]``: a Q-network's policy on a fixed state set (the DQN agents).

Tags: ``policy/{softmax,greedy}_entropy``, ``policy/churn_{fraction,q}``; their definitions and
maths are in ``plastilab.instruments.policy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from plastilab.core.schema import Strict
from plastilab.instruments.base import Instrument, Order, Measurement, MeasureRequest, SuiteInputs

if TYPE_CHECKING:
    import torch
    from torch import nn

    from plastilab.core.memory_estimate import Part


class PolicyConfig(Strict):
    """A Q-network's policy on a fixed state set: softmax-Q and greedy-action entropy, and the
    greedy-action churn since the previous measurement (instruments/policy.py)."""

    every: int = Field(default=1000, ge=0)
    n_examples: int = Field(default=256, ge=1)  # the fixed states
    temperature: float = Field(default=1.0, gt=0)  # T of softmax(Q/T)


class PolicyInstrument(Instrument):
    """On a fixed set of states, kept for the whole run (and in its checkpoints)."""

    name = "policy"
    Config = PolicyConfig
    order = Order(table=5, run=5, memory=5)
    needs_finite_parameters = False  # a NaN Q-value is worth seeing
    takes_batch = True  # the state set, when the suite has no inputs of its own
    needs = ("stats_inputs", "probe_inputs")  # the fixed states: the first of these given

    @classmethod
    def memory(cls, config: PolicyConfig, parameters: int, n_in: int, width: int) -> list[Part]:
        # Its states and one row of Q-values a state: small beside the network, so not counted.
        return []

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        super().__init__(config, inputs)
        given = inputs.stats_inputs if inputs.stats_inputs is not None else inputs.probe_inputs
        self.states = given[: config.n_examples] if given is not None else None
        self.previous: dict[str, torch.Tensor] = {}  # series -> Q at the last measurement

    def start(self, series: str, model: nn.Module) -> Measurement | None:
        from plastilab.instruments.policy import q_values  # deferred: pulls in torch

        if self.states is not None:
            self.previous[series] = q_values(model, self.states)
        return None

    def measure(self, at: MeasureRequest) -> Measurement:
        from plastilab.instruments.policy import greedy_churn, greedy_entropy, q_values, softmax_entropy  # deferred: pulls in torch

        if self.states is None:
            if at.batch is None:
                return Measurement()
            self.states = at.batch[0][: self.config.n_examples].detach()
        q = q_values(at.model, self.states)
        values = {
            "policy/softmax_entropy": softmax_entropy(q, self.config.temperature),
            "policy/greedy_entropy": greedy_entropy(q),
        }
        before = self.previous.get(at.series)
        if before is not None and before.shape == q.shape:
            values["policy/churn_fraction"], values["policy/churn_q"] = greedy_churn(q, before)
        self.previous[at.series] = q
        return Measurement(values)

    def state_dict(self) -> dict[str, Any]:
        return {"previous": dict(self.previous), "states": self.states.cpu() if self.states is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.previous = dict(state.get("previous", {}))
        if state.get("states") is not None and self.states is None:
            self.states = state["states"]
