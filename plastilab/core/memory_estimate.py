"""How much memory a scenario needs, estimated from its file before anything is allocated.

The estimate counts what dominates: parameters with their gradients and optimiser state, the
images held in memory, the activations of one batch, a replay buffer, an environment's tables,
and the instruments' own copies and batches. It is an order of magnitude, not an accounting:
its job is to refuse ``hidden = [100000000, 100000000]`` with a line naming the key, the
estimate and the limit, instead of letting the allocator fail after the run folder exists.

Each kind declares its own terms (``ScenarioKind.memory``, e.g. scenarios/atari/memory.py) from
the pieces here. Plain Python: no torch, so ``validate`` and the lab's form can call it at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from plastilab.core.registry import SCENARIO_KINDS

FLOAT = 4  # float32 bytes
# Per parameter: the weight, its gradient, Adam's two moments, and a spare copy (a reset's
# initial weights, a target network, the L2-init anchor).
PARAM_COPIES = 5
ACTIVATION_COPIES = 3  # forward output, its gradient, and an intermediate

IMAGE_SHAPES = {"mnist-5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
RESNET18_PARAMETERS = 11_200_000
CLASSES_IN_DATASET = 10


@dataclass(frozen=True)
class Part:
    """One term of the estimate and the key a person would change to shrink it."""

    key: str
    what: str
    bytes: int


def estimate(config: Any) -> list[Part]:
    """The memory terms of a validated scenario config, biggest first: what its kind declares
    (none for a kind this version does not know)."""
    kind = SCENARIO_KINDS.get(getattr(config, "kind", None) or "")
    parts = kind.load_memory()(config) if kind is not None else []
    return sorted(parts, key=lambda p: p.bytes, reverse=True)


def total(parts: list[Part]) -> int:
    return sum(p.bytes for p in parts)


# -- pieces the kinds share ---------------------------------------------------------------
def image_shape(config: Any) -> tuple[int, int, int]:
    return IMAGE_SHAPES.get(getattr(config.data, "dataset", "mnist-5k"), (3, 32, 32))


def pixels(config: Any) -> int:
    c, h, w = image_shape(config)
    return c * h * w


def mlp_parameters(n_in: int, hidden: list[int], n_out: int) -> int:
    widths = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def images(config: Any) -> Part:
    return Part("data.n_images", "images", config.data.n_images * pixels(config) * FLOAT)


def population_total(configs: list[Any]) -> int:
    """Bytes for several trials trained as one run (a study's population): every trial's own
    networks, optimiser state, replay buffer and batches, but the images once a seed (trials of
    one seed share them) and the instruments once (they measure one network at a time)."""
    own = instruments = 0
    images: dict[int, int] = {}
    for config in configs:
        parts = estimate(config)
        measuring = sum(p.bytes for p in parts if p.key.startswith("instruments."))
        instruments = max(instruments, measuring)
        seed = getattr(config, "seed", 0)
        pictures = sum(p.bytes for p in parts if p.key == "data.n_images")
        images[seed] = max(images.get(seed, 0), pictures)
        own += total(parts) - measuring - pictures
    return own + sum(images.values()) + instruments


# -- the limit ---------------------------------------------------------------------------
def available_bytes(device: str) -> tuple[int | None, str]:
    """(bytes the run may use, what that is) for ``device``; None when it cannot be told."""
    if device.startswith("cuda"):
        try:
            import torch  # deferred: torch only for a GPU's free memory, never for validate

            free, _ = torch.cuda.mem_get_info()
            return int(free), "free GPU memory"
        except Exception:  # no driver, no device: nothing to compare with
            return None, "GPU memory"
    return _available_ram(), "available RAM"


def _available_ram() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
