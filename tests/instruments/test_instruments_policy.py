"""The DQN policy instrument against numpy on small hand-made Q-tables: softmax-Q entropy, the
greedy-action histogram's entropy, and C-CHAIN's greedy-action churn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from plastilab.instruments.base import MeasureRequest, SuiteInputs
from plastilab.instruments.builtin.policy import PolicyInstrument
from plastilab.instruments.policy import greedy_churn, greedy_entropy, softmax_entropy
from plastilab.instruments.schema import InstrumentsConfig, PolicyConfig
from plastilab.instruments.suite import InstrumentSuite

Q = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [5.0, -1.0, 2.0], [2.0, 2.5, -3.0]])
Q_BEFORE = np.array([[1.0, 4.0, 3.0], [0.5, 0.0, 0.0], [5.0, -1.0, 2.0], [2.0, 2.0, -3.0]])


def numpy_softmax_entropy(q, t):
    z = q / t - (q / t).max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(np.mean(-(p * np.log(p)).sum(axis=1)))


@pytest.mark.parametrize("temperature", [1.0, 0.1, 10.0])
def test_softmax_entropy_is_numpys(temperature):
    assert softmax_entropy(torch.tensor(Q), temperature) == pytest.approx(numpy_softmax_entropy(Q, temperature), rel=1e-12)
    assert softmax_entropy(torch.zeros(5, 4)) == pytest.approx(np.log(4))  # equal Q-values: the maximum, ln A


def test_greedy_entropy_is_the_entropy_of_the_argmax_histogram():
    # argmax rows: 2, 0 (tie: the first), 0, 1 -> histogram (2, 1, 1)/4
    p = np.array([2, 1, 1]) / 4
    assert greedy_entropy(torch.tensor(Q)) == pytest.approx(float(-(p * np.log(p)).sum()), rel=1e-12)
    assert greedy_entropy(torch.tensor([[0.0, 1.0], [0.0, 2.0]])) == 0.0  # one action everywhere


def test_churn_is_the_share_of_changed_greedy_actions_and_the_mean_absolute_q_change():
    fraction, mean_abs = greedy_churn(torch.tensor(Q), torch.tensor(Q_BEFORE))
    changed = np.mean(Q.argmax(axis=1) != Q_BEFORE.argmax(axis=1))  # rows 0 (2 vs 1) and 3 (1 vs 0)
    assert changed == 0.5 and fraction == changed
    assert mean_abs == pytest.approx(float(np.abs(Q - Q_BEFORE).mean()), rel=1e-12)


class Table(nn.Module):
    """A 'Q-network' that looks its rows up: input i -> the i-th row of a settable table."""

    def __init__(self, table: np.ndarray) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.tensor(table))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.table[x.long().squeeze(-1)]


def test_the_instrument_measures_churn_against_its_previous_measurement_and_theta_0():
    states = torch.arange(4).unsqueeze(-1)
    config = InstrumentsConfig(policy=PolicyConfig(every=10, n_examples=4, temperature=2.0))
    suite = InstrumentSuite(config, probe_inputs=states)
    model = Table(Q_BEFORE)
    assert suite.start("s", model) == []
    with torch.no_grad():
        model.table.copy_(torch.tensor(Q))
    (scalars,) = suite.measure(10, "s", model)
    assert scalars.values["policy/churn_fraction"] == 0.5  # against θ_0
    assert scalars.values["policy/softmax_entropy"] == pytest.approx(numpy_softmax_entropy(Q, 2.0))
    (again,) = suite.measure(20, "s", model)
    assert again.values["policy/churn_fraction"] == 0.0 and again.values["policy/churn_q"] == 0.0  # unchanged since step 10


def test_without_inputs_it_keeps_the_first_batch_as_its_state_set():
    instrument = PolicyInstrument(PolicyConfig(every=1, n_examples=2), SuiteInputs())

    model = Table(Q)
    first = instrument.measure(MeasureRequest(1, "s", model, batch=(torch.tensor([[0], [2], [3]]), None)))
    assert "policy/churn_fraction" not in first.scalars and instrument.states.tolist() == [[0], [2]]
    second = instrument.measure(MeasureRequest(2, "s", model, batch=(torch.tensor([[1], [1]]), None)))
    assert second.scalars["policy/churn_fraction"] == 0.0  # the same two states as the first time


def test_a_block_mdp_run_logs_the_policy_tags_of_its_dqn(tmp_path):
    from block_mdp_helpers import numbers, run_to_folder

    others_off = [f"instruments.{name}.every=0" for name in ("probe", "stats", "hessian", "covariance")]
    overrides = ["instruments.policy={every=100, n_examples=64}", "training.brownian=false", "training.total_steps=200", *others_off]
    run_dir, _ = run_to_folder(overrides, tmp_path)
    tags = {(step, tag): value for series, step, tag, value in numbers(run_dir) if tag.startswith("policy/")}
    assert {step for step, _ in tags} == {100, 200}
    assert all(0 <= tags[(s, "policy/churn_fraction")] <= 1 for s in (100, 200))
    assert 0 < tags[(200, "policy/softmax_entropy")] <= np.log(4) + 1e-9
