"""Where a model's hidden units are: for each layer of units, the layer that computes them, the
module whose output shows their activations, and the layer that reads them.

ReDo and unit-level instruments need this map; models do not carry it themselves (the MLP's
interface is shared), so it is read off their structure here:
- MLP, CNN: each ``act*`` module of ``body``; incoming is the Linear/Conv before it, outgoing the
  Linear/Conv after it (or ``head``).
- ResNet-18: the units inside each basic block (conv1 -> bn1 -> relu -> conv2). The block's
  output units feed the residual stream and have no single outgoing layer, so they are left out.
  torchvision reuses one ReLU module twice per block, so the probe is bn1 with ReLU applied.
- ViT: the hidden units of each block's MLP (fc1 -> act -> fc2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from plastilab.models.vit import ViT

WEIGHTED = (nn.Linear, nn.Conv2d)
NORMS = (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm2d, nn.BatchNorm1d)


@dataclass(frozen=True)
class UnitLayer:
    name: str  # e.g. "body.act1"
    incoming: nn.Module  # computes the units: one output row / channel per unit
    outgoing: nn.Module  # reads the units: one input column / channel per unit
    probe: nn.Module  # its output, after ``activation``, is the units' activation
    activation: Callable[[torch.Tensor], torch.Tensor] | None = None
    norm: nn.Module | None = None  # a per-unit norm between incoming and the activation
    copies: int = 1  # CReLU / DFF show each unit twice: probe unit c·n + i is unit i's copy c

    @property
    def unit_dim(self) -> int:
        """Which dimension of the probe's output indexes units (channels of a conv, else last)."""
        return 1 if isinstance(self.incoming, nn.Conv2d) else -1


def unit_layers(model: nn.Module) -> list[UnitLayer]:
    from plastilab.models.resnet import ResNet18  # deferred: pulls in torchvision

    if isinstance(model, ResNet18):
        return _resnet_units(model)
    if isinstance(model, ViT):
        return [
            UnitLayer(f"blocks.{i}.mlp.act", block.mlp.fc1, block.mlp.fc2, block.mlp.act)
            for i, block in enumerate(model.blocks)
        ]
    if isinstance(getattr(model, "body", None), nn.Sequential):
        return _sequential_units(model)
    raise TypeError(f"no unit map for a {type(model).__name__}")


def _sequential_units(model: nn.Module) -> list[UnitLayer]:
    found: list[dict] = []
    incoming = norm = None
    for name, module in model.body.named_children():
        if isinstance(module, WEIGHTED):
            if found and "outgoing" not in found[-1]:
                found[-1]["outgoing"] = module
            incoming, norm = module, None
        elif isinstance(module, NORMS):
            norm = module
        elif name.startswith("act") and incoming is not None:
            copies = getattr(module, "copies", 1)
            found.append({"name": f"body.{name}", "incoming": incoming, "probe": module, "norm": norm, "copies": copies})
    if found and "outgoing" not in found[-1]:
        found[-1]["outgoing"] = model.head
    return [UnitLayer(**f) for f in found]


def _resnet_units(model: nn.Module) -> list[UnitLayer]:
    layers = []
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        for i, block in enumerate(getattr(model.backbone, stage)):
            layers.append(
                UnitLayer(f"backbone.{stage}.{i}.relu", block.conv1, block.conv2, block.bn1, F.relu, block.bn1)
            )
    return layers
