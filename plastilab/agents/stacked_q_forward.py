"""The forward pass of N stacked Q-networks that gives each agent its lone network's numbers.

A DQN agent is chaotic: a greedy action flips on a difference in the last bit of two Q-values,
and from then on the agent's data differ. For an agent to train inside a population as it trains
alone, its forward and backward passes must give the same floats, not merely close ones. On the
CPU ``torch.baddbmm`` gives, slice by slice, the floats of ``F.linear`` (both run the same gemm
per agent), and so do the backward products when they are taken in ``nn.Linear``'s orientation
(grad_W = g^T x, grad_x = g W, grad_b = sum of g): ``StackedLinear`` does exactly that. Autograd's
own backward of ``baddbmm`` computes grad_W as (x^T g)^T, whose sums run in another order.

This exact form covers the lab's plain ``MLP`` (linear layers and elementwise activations, the
block MDP's Q-network); any other network runs through the population's vmapped forward, whose
numbers agree with a lone agent's up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from plastilab.models.mlp import ACTIVATIONS, MLP

ELEMENTWISE = tuple(ACTIVATIONS.values())


class StackedLinear(torch.autograd.Function):
    """``x [N, B, in] -> x W^T + b`` per agent, with ``nn.Linear``'s backward products."""

    @staticmethod
    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, weight, _ = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        grad_weight = torch.bmm(grad.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
        grad_bias = grad.sum(1) if ctx.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias


def exact_mlp_forward(template: nn.Module, stacked: dict[str, torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``x [N, B, ...] -> Q [N, B, A]`` for a plain ``MLP`` over the stacked parameters
    ``stacked`` (name -> ``[N, ...]``); None where ``template`` is anything else."""
    if type(template) is not MLP:
        return None
    layers = [(f"body.{name}", m) for name, m in template.body.named_children()] + [("head", template.head)]
    if not all(isinstance(m, (nn.Linear, *ELEMENTWISE)) for _, m in layers):
        return None
    if any(isinstance(m, nn.Linear) and m.bias is None for _, m in layers):
        return None

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(2)
        for name, module in layers:
            if isinstance(module, nn.Linear):
                h = StackedLinear.apply(h, stacked[f"{name}.weight"], stacked[f"{name}.bias"])
            else:
                h = module(h)
        return h

    return forward
