"""N networks of one shape held as one stack: a leading agent axis on every parameter.

All the agents' parameters live in one tensor ``flat`` of shape ``[N, P]``: row ``i`` holds agent
``i``'s parameters back to back. Each named parameter of the stack (``[N, *shape]``) is a view into
it, and each agent's own ``nn.Module`` has its parameters set to views into its row, so an
in-place edit through any of the three is seen by the other two, and the instruments measure an
agent's network by measuring its module. One tensor makes whole-stack copies (a target network,
a checkpoint) one operation, and one agent's parameters one contiguous row.

The forward pass of all agents runs each layer as one batched operation for the N agents,
however many there are: for a plain MLP the direct form of ``direct.py`` (one ``baddbmm`` a
layer, each agent's numbers its lone network's), for any other network ``vmap`` over
``functional_call`` of a template network.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from plastilab.population.direct import direct_mlp_call

Params = dict[str, torch.Tensor]


class Population:
    """The stack of ``models`` (same architecture, same dtype and device); they become views into it."""

    def __init__(self, models: Sequence[nn.Module]) -> None:
        if not models:
            raise ValueError("a population needs at least one network")
        self.models = list(models)
        self.n_agents = len(self.models)
        # The template gives the forward its structure; its own tensors are never read.
        self.template = copy.deepcopy(self.models[0])
        named = [dict(m.named_parameters()) for m in self.models]
        self.shapes = {name: p.shape for name, p in named[0].items()}
        first = next(iter(named[0].values()))
        for i, params in enumerate(named):
            if {k: p.shape for k, p in params.items()} != self.shapes or any(p.dtype != first.dtype or p.device != first.device for p in params.values()):
                raise ValueError(f"network {i} differs from network 0 in its parameters' names, shapes, dtype or device; a population stacks networks of one shape")
        self.offsets: dict[str, tuple[int, int]] = {}
        start = 0
        for name, shape in self.shapes.items():
            self.offsets[name] = (start, start + shape.numel())
            start += shape.numel()
        self.flat = torch.empty(self.n_agents, start, dtype=first.dtype, device=first.device)
        with torch.no_grad():
            for i, params in enumerate(named):
                for name, p in params.items():
                    a, b = self.offsets[name]
                    self.flat[i, a:b].copy_(p.reshape(-1))
        self.params: dict[str, nn.Parameter] = {
            name: nn.Parameter(view, requires_grad=named[0][name].requires_grad) for name, view in self.unflatten(self.flat).items()
        }
        self.buffers: dict[str, torch.Tensor] = {
            name: torch.stack([dict(m.named_buffers())[name].detach() for m in self.models])
            for name, _ in self.models[0].named_buffers()
        }
        for i, model in enumerate(self.models):
            for name, p in model.named_parameters():
                p.data = self.params[name].data[i]
            for name, b in model.named_buffers():
                b.data = self.buffers[name][i]
        self._vmapped = vmap(self._forward_one, in_dims=(0, 0, 0), randomness="different")
        self.direct = direct_mlp_call(self.template) if not self.buffers else None

    # The forward pass

    def _forward_one(self, params: Params, buffers: Params, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.template, (params, buffers), (x,))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, B, ...]`` (agent i's batch in row i) -> ``[N, B, ...]``."""
        return self.call(self.params, x)

    def call(self, params: Params | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The forward pass with other stacked parameters (a dict like ``params``, or a flat
        ``[N, P]`` tensor like ``flat``), e.g. a target network's, through the same template."""
        if isinstance(params, torch.Tensor):
            params = self.unflatten(params)
        if self.direct is not None:
            return self.direct(params, x)
        return self.call_vmapped(params, x)

    def call_vmapped(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """The general form of ``call`` (vmap over ``functional_call``), for any network."""
        return self._vmapped(params, self.buffers, x)

    def train(self, mode: bool = True) -> Population:
        """Train or eval mode for the stack's forward and every agent's module."""
        self.template.train(mode)
        for model in self.models:
            model.train(mode)
        return self

    # Views and copies

    def unflatten(self, flat: torch.Tensor) -> Params:
        """The named stacked parameters ``[N, *shape]`` as views into ``flat`` ``[N, P]``."""
        return {name: flat[:, a:b].view(self.n_agents, *self.shapes[name]) for name, (a, b) in self.offsets.items()}

    def clone_flat(self) -> torch.Tensor:
        """A copy of every agent's parameters, ``[N, P]`` (e.g. a target network: ``call`` reads it)."""
        return self.flat.detach().clone()

    def copy_params(self) -> Params:
        """A copy of the named stacked parameters, as views into one fresh ``[N, P]`` tensor."""
        return self.unflatten(self.clone_flat())

    def agent_params(self, i: int) -> Params:
        """Agent ``i``'s named parameters (views into the stack)."""
        return {name: p.detach()[i] for name, p in self.params.items()}

    def share_gradients(self) -> None:
        """Each agent's module gets its slice of the stack's gradient as ``.grad`` (views), so
        instruments that read ``.grad`` see the gradient that agent's last step took."""
        for i, model in enumerate(self.models):
            for name, p in model.named_parameters():
                grad = self.params[name].grad
                p.grad = None if grad is None else grad[i]

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def parameters(self) -> list[nn.Parameter]:
        """The stacked parameters, for a stacked optimiser."""
        return list(self.params.values())

    # Checkpoints: plain tensors (loadable with weights_only=True), restored in place.

    def state_dict(self) -> dict:
        return {
            "params": {name: p.detach().clone() for name, p in self.params.items()},
            "buffers": {name: b.clone() for name, b in self.buffers.items()},
        }

    @torch.no_grad()
    def load_state_dict(self, state: Mapping) -> None:
        """In place: every agent's module keeps viewing its slice."""
        for group, mine in (("params", self.params), ("buffers", self.buffers)):
            saved = state[group]
            if set(saved) != set(mine):
                raise ValueError(f"population state: {group} named {sorted(saved)}; allowed: {sorted(mine)}")
            for name, t in mine.items():
                if tuple(saved[name].shape) != tuple(t.shape):
                    raise ValueError(f"population state: {name} has shape {tuple(saved[name].shape)}; allowed: {tuple(t.shape)}")
                t.copy_(saved[name])


def per_agent_norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The L2 norm over all ``tensors`` together, for each index of their leading agent axis: ``[N]``."""
    squares = torch.stack([t.flatten(1).pow(2).sum(1) for t in tensors]).sum(0)
    return squares.sqrt()
