"""The direct forward pass of a stack of plain MLPs: one batched matmul a layer, no vmap.

For a network of linear layers and elementwise activations (the lab's ``MLP``, the block MDP's
Q-network), each layer of the N agents is one ``baddbmm``, with none of vmap's per-operation
work, and its backward takes ``nn.Linear``'s products (grad_W = g^T x, grad_x = g W, grad_b = the
sum of g over the batch). That orientation matters twice: on the CPU each agent's slice of these
products is the gemm a lone ``nn.Linear`` runs, so an agent's numbers are its lone network's bit
for bit; and grad_W comes out in the weight's own layout, where autograd's ``bmm`` backward
forms (x^T g) and then copies its transpose, a pass over every weight that costs as much as the
matmul itself. Any other network runs through the population's vmapped forward.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from plastilab.models.mlp import ACTIVATIONS, MLP

ELEMENTWISE = tuple(ACTIVATIONS.values())
StackedCall = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


class StackedLinear(torch.autograd.Function):
    """``x [N, B, in] -> x W^T + b`` per agent (``W [N, out, in]``, ``b [N, out]`` or None),
    with ``nn.Linear``'s backward products."""

    @staticmethod
    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if bias is None:
            return torch.bmm(x, weight.transpose(1, 2))
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


def direct_mlp_call(template: nn.Module) -> StackedCall | None:
    """``(params, x [N, B, ...]) -> [N, B, out]`` for a plain ``MLP`` (linear layers and
    elementwise activations, no hooks or parametrisations); None for anything else."""
    if type(template) is not MLP or any(parametrize.is_parametrized(m) for m in template.modules()):
        return None
    if any(m._forward_hooks or m._forward_pre_hooks for m in template.modules()):
        return None  # a hook must see every call, which only the module's own forward gives it
    layers = [(f"body.{name}", m) for name, m in template.body.named_children()] + [("head", template.head)]
    if not all(isinstance(m, (nn.Linear, *ELEMENTWISE)) for _, m in layers):
        return None

    def call(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(2)  # MLP.features flattens each example
        for name, module in layers:
            if isinstance(module, nn.Linear):
                h = StackedLinear.apply(h, params[f"{name}.weight"], params.get(f"{name}.bias"))
            else:
                h = module(h)
        return h

    return call
