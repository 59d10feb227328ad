"""torchvision's ResNet-18 adapted to small images (28×28 grey, 32×32 colour).

The ImageNet stem (7×7 stride-2 conv, then max-pool) would shrink a 28×28 image to 7×7 before
the first block, so it becomes a 3×3 stride-1 conv reading ``in_channels`` channels, and the
max-pool goes. Normalisation is torchvision's batch norm unless ``layer_norm`` asks for layer
norm in every place batch norm was. ``head`` is the output layer, as in every plastilab model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torchvision.models import resnet18

from plastilab.models.norms import layer_norm_2d


class ResNet18(nn.Module):
    def __init__(self, input_shape: Sequence[int], out_features: int, layer_norm: bool = False) -> None:
        super().__init__()
        in_channels = input_shape[0]
        self.backbone = resnet18(weights=None, num_classes=out_features, norm_layer=layer_norm_2d if layer_norm else None)
        self.backbone.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.backbone.maxpool = nn.Identity()
        # The head lives outside the backbone so every model names its output layer ``head``.
        self.head = self.backbone.fc
        self.backbone.fc = nn.Identity()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
