"""What a Q-network's greedy policy looks like on a fixed state set, and
how much it churns. For a network whose outputs are Q-values (the DQN agents), on the n fixed
states x_1..x_n (the first ``n_examples`` of the suite's inputs; without any, of the first batch
measured, kept from then on), with A actions and temperature T:

* ``policy/softmax_entropy`` = mean_i H(softmax(Q(x_i)/T)), H(p) = −Σ_a p_a ln p_a (nats; at most
  ln A). Plasticine logs PPO's policy entropy; this is its DQN reading (ANCHORS §2).
* ``policy/greedy_entropy`` = H(h), h_a = #{i: argmax Q(x_i) = a}/n: the entropy of the greedy
  actions' histogram (0: one action everywhere, ln A: every action equally often).
* ``policy/churn_fraction`` = #{i: argmax Q_t(x_i) ≠ argmax Q_{t−k}(x_i)}/n and
  ``policy/churn_q`` = mean_{i,a} |Q_t(x_i, a) − Q_{t−k}(x_i, a)|: C-CHAIN's
  ``invest_policy_churn`` (Tang et al. 2025), with Q_{t−k} the network at this instrument's
  previous measurement (k = ``every`` environment steps; the first is against θ_0).

Ties go to the first action, as ``argmax`` gives them in torch and numpy. The instrument that
reports them is ``plastilab.instruments.builtin.policy`` (``[instruments.policy]``).
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.instruments.functional import model_device


def softmax_entropy(q: torch.Tensor, temperature: float = 1.0) -> float:
    """mean over rows of H(softmax(q / T)), in nats."""
    logp = torch.log_softmax(q.double() / temperature, dim=-1)
    return float(-(logp.exp() * logp).sum(-1).mean())


def greedy_entropy(q: torch.Tensor) -> float:
    """H of the histogram of argmax actions over the rows, in nats."""
    counts = torch.bincount(q.argmax(dim=-1), minlength=q.shape[-1]).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def greedy_churn(q_now: torch.Tensor, q_before: torch.Tensor) -> tuple[float, float]:
    """(fraction of rows whose argmax changed, mean |q_now − q_before|)."""
    changed = (q_now.argmax(dim=-1) != q_before.argmax(dim=-1)).double().mean()
    return float(changed), float((q_now.double() - q_before.double()).abs().mean())


@torch.no_grad()
def q_values(model: nn.Module, states: torch.Tensor) -> torch.Tensor:
    """The model's outputs on ``states`` in eval mode (float64, on the CPU); its mode is kept."""
    was_training = model.training
    model.eval()
    try:
        return model(states.to(model_device(model))).detach().double().cpu()
    finally:
        model.train(was_training)
