"""Normalize-and-project, NaP (Lyle et al., 2024): layer norm before every nonlinearity, and
after every optimiser step each weight matrix projected back to its initial norm:

    W_l ← W_l · ‖W_l⁰‖_F / ‖W_l‖_F      (every Linear/Conv weight, the head included)
    (γ, β) ← (γ, β) · ‖(γ⁰, β⁰)‖ / ‖(γ, β)‖   (each norm layer's scale and shift, jointly)

so the effective learning rate cannot decay through growing weights. Biases are not projected.
The layer norm itself is the model's ``layer_norm`` option, switched on by the plan.
Plasticine's version projects once per rollout and its norm-layer branch never matches
``nn.LayerNorm``; here it runs after every step and covers every norm layer with an affine.
"""

from __future__ import annotations

import torch
from torch import nn

from plastilab.interventions.reinit import raw_weight
from plastilab.models.units import NORMS, WEIGHTED


class NormalizeAndProject:
    def __init__(self, model: nn.Module) -> None:
        self.targets: dict[str, float] = {}
        for name, group in self._groups(model).items():
            self.targets[name] = float(torch.sqrt(sum(t.detach().double().square().sum() for t in group)))

    @staticmethod
    def _groups(model: nn.Module) -> dict[str, list[torch.Tensor]]:
        groups: dict[str, list[torch.Tensor]] = {}
        for name, module in model.named_modules():
            if isinstance(module, WEIGHTED):
                groups[name] = [raw_weight(module)]
            elif isinstance(module, NORMS) and getattr(module, "weight", None) is not None:
                groups[name] = [module.weight] + ([module.bias] if module.bias is not None else [])
        return groups

    @torch.no_grad()
    def project(self, model: nn.Module) -> None:
        for name, group in self._groups(model).items():
            target = self.targets.get(name)
            if target is None or not all(t.requires_grad for t in group):
                continue  # a layer born later (an injected head), or a frozen one
            norm = float(torch.sqrt(sum(t.double().square().sum() for t in group)))
            if norm > 0:
                for t in group:
                    t.mul_(target / norm)
