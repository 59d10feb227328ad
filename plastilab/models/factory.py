"""Build any plastilab architecture by name: ``build_model("cnn", (1, 28, 28), 10, layer_norm=True)``.

``options`` are the architecture's own keyword arguments (e.g. ``hidden`` for the MLP,
``depth`` for the ViT); an option the architecture does not take is an error, not ignored.
Every model returned has ``features(x)`` and an output layer named ``head``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

from torch import nn

from plastilab.models.cnn import CNN
from plastilab.models.mlp import MLP
from plastilab.models.vit import ViT

ARCHITECTURES = ("mlp", "cnn", "resnet18", "vit")


def build_model(
    arch: str,
    input_shape: Sequence[int],
    n_out: int,
    layer_norm: bool = False,
    **options: Any,
) -> nn.Module:
    input_shape = tuple(int(n) for n in input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape: found {input_shape}; expected (channels, height, width)")
    if arch == "mlp":
        _check_options(MLP, options, taken=("in_features", "out_features", "layer_norm"))
        options.setdefault("hidden", (256, 256))
        return MLP(math.prod(input_shape), out_features=n_out, layer_norm=layer_norm, **options)
    if arch == "cnn":
        cls = CNN
    elif arch == "resnet18":
        from plastilab.models.resnet import ResNet18 as cls  # deferred: pulls in torchvision
    elif arch == "vit":
        cls = ViT
    else:
        raise ValueError(f"arch: found {arch!r}; allowed: {', '.join(ARCHITECTURES)}")
    _check_options(cls, options, taken=("input_shape", "out_features", "layer_norm"))
    return cls(input_shape, n_out, layer_norm=layer_norm, **options)


def _check_options(cls: type, options: dict[str, Any], taken: tuple[str, ...]) -> None:
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", *taken)]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown option {unknown[0]!r}; allowed: {', '.join(allowed) or 'none'}")
