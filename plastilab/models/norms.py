"""Layer normalisation for image feature maps.

``nn.LayerNorm`` needs the normalised shape up front, which a conv layer's output only has once
the input size is known. ``GroupNorm`` with one group normalises each example over all of its
channels and positions, which is exactly layer norm on a feature map (with a per-channel affine).
"""

from __future__ import annotations

from torch import nn


def layer_norm_2d(channels: int) -> nn.Module:
    return nn.GroupNorm(1, channels)
