"""K copies of a network run as one forward pass over stacked parameters (the probe's hot path).

Any network works through ``vmap`` of ``functional_call``. The lab's own :class:`MLP` (linear
layers, optional layer norm, elementwise activations, no hooks or parametrisations) also has a
direct form: each linear layer of the K copies is one ``baddbmm``, with none of vmap's and
functional_call's per-operation overhead, which dominates at the probe's small sizes. Both give
the same numbers up to float rounding (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap
from torch.nn.utils import parametrize

from plastilab.instruments.functional import Params
from plastilab.models.mlp import ACTIVATIONS, MLP

StackedForward = Callable[[Params, torch.Tensor], torch.Tensor]  # (params (K, ...), x (B, ...)) -> (K, B, out)
ELEMENTWISE = tuple(ACTIVATIONS.values())


def stacked_forward(twin: nn.Module) -> StackedForward:
    """The forward pass of K copies of ``twin`` at once, in ``twin``'s current modes."""
    return _direct_mlp(twin) or _vmapped(twin)


def _vmapped(twin: nn.Module) -> StackedForward:
    buffers = dict(twin.named_buffers())

    def one(params: Params, x: torch.Tensor) -> torch.Tensor:
        return functional_call(twin, (params, buffers), (x,))

    return vmap(one, in_dims=(0, None), randomness="different")


def _direct_mlp(twin: nn.Module) -> StackedForward | None:
    """The direct form for a plain :class:`MLP`, or None where anything could change its forward."""
    if type(twin) is not MLP or any(parametrize.is_parametrized(m) for m in twin.modules()):
        return None
    for module in twin.modules():
        if module._forward_hooks or module._forward_pre_hooks:  # hooks must see every call
            return None
    layers = [(f"body.{name}", m) for name, m in twin.body.named_children()] + [("head", twin.head)]
    for _, module in layers:
        if not isinstance(module, (nn.Linear, nn.LayerNorm, *ELEMENTWISE)):
            return None
    if not all(p.requires_grad for p in twin.parameters()):
        return None

    def forward(params: Params, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)  # (B, features) until the first layer: every copy sees the same batch
        for name, module in layers:
            if isinstance(module, nn.Linear):
                weight, bias = params[f"{name}.weight"], params.get(f"{name}.bias")
                k, out = weight.shape[:2]
                if h.dim() == 2:
                    # The shared input meets all K weight matrices in one matmul (and its
                    # backward gives the K weight gradients in one matmul, in their own layout).
                    flat_bias = None if bias is None else bias.reshape(k * out)
                    h = F.linear(h, weight.reshape(k * out, -1), flat_bias).view(-1, k, out).transpose(0, 1)
                elif bias is None:
                    h = torch.bmm(h, weight.transpose(1, 2))
                else:
                    h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            elif isinstance(module, nn.LayerNorm):
                h = F.layer_norm(h, module.normalized_shape, eps=module.eps)
                if module.weight is not None:
                    h = h * params[f"{name}.weight"].unsqueeze(1)
                if module.bias is not None:
                    h = h + params[f"{name}.bias"].unsqueeze(1)
            else:
                h = module(h)
        return h

    return forward
