"""How much memory a scenario needs, estimated from its file before anything is allocated.

The estimate counts what dominates: parameters with their gradients and optimiser state, the
images held in memory, the activations of one batch, a replay buffer, an environment's tables,
and the instruments' own copies and batches. It is an order of magnitude, not an accounting:
its job is to refuse ``hidden = [100000000, 100000000]`` with a line naming the key, the
estimate and the limit, instead of letting the allocator fail after the run folder exists.

Plain Python: no torch, so ``validate`` and the lab's form can call it at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

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
    """The memory terms of a validated scenario config (any kind), biggest first."""
    kind = getattr(config, "kind", None)
    parts = {"adam_instability": _adam, "interventions": _interventions, "block_mdp": _block_mdp, "atari": _atari}.get(kind, lambda c: [])(config)
    return sorted(parts, key=lambda p: p.bytes, reverse=True)


def total(parts: list[Part]) -> int:
    return sum(p.bytes for p in parts)


# -- shared pieces -------------------------------------------------------------------------
def _image_shape(config: Any) -> tuple[int, int, int]:
    return IMAGE_SHAPES.get(getattr(config.data, "dataset", "mnist-5k"), (3, 32, 32))


def _pixels(config: Any) -> int:
    c, h, w = _image_shape(config)
    return c * h * w


def _mlp_parameters(n_in: int, hidden: list[int], n_out: int) -> int:
    widths = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def _images(config: Any) -> Part:
    return Part("data.n_images", "images", config.data.n_images * _pixels(config) * FLOAT)


def _instruments(config: Any, parameters: int, n_in: int, width: int) -> list[Part]:
    """The instruments' copies and batches, for a network of ``parameters`` weights whose
    widest layer is ``width`` and whose input has ``n_in`` numbers."""
    inst = getattr(config, "instruments", None)
    if inst is None:
        return []
    parts = []
    if inst.probe is not None and inst.probe.every:
        p = inst.probe
        # A trained copy with its own head of n_targets outputs, and its examples and targets.
        copy = PARAM_COPIES * parameters * FLOAT
        data = p.n_examples * (n_in + p.n_targets) * FLOAT
        batch = p.batch_size * width * ACTIVATION_COPIES * FLOAT
        parts.append(Part("instruments.probe.n_examples", "plasticity probe", copy + data + batch))
    if inst.hessian is not None and inst.hessian.every:
        h = inst.hessian
        # Lanczos keeps its basis (iterations vectors of every parameter, float64).
        parts.append(Part("instruments.hessian.lanczos_iterations", "Hessian basis", (h.lanczos_iterations + 2) * parameters * 8))
        parts.append(Part("instruments.hessian.n_examples", "Hessian batch", h.n_examples * (n_in + width * ACTIVATION_COPIES) * FLOAT))
    if inst.covariance is not None and inst.covariance.every:
        # One gradient a example.
        parts.append(Part("instruments.covariance.n_examples", "per-example gradients", inst.covariance.n_examples * parameters * FLOAT))
    if inst.stats is not None and inst.stats.every:
        parts.append(Part("instruments.stats.n_examples", "unit statistics batch", inst.stats.n_examples * (n_in + width) * FLOAT))
        # The parameters at the last measurement (weights/rms_change), one copy a series.
        parts.append(Part("instruments.stats.every", "parameters at the last measurement", parameters * FLOAT))
    return parts


# -- one function a kind -----------------------------------------------------------------
def _adam(config: Any) -> list[Part]:
    n_in = _pixels(config)
    hidden = list(config.model.hidden)
    n_variants = len(config.variants)
    parameters = _mlp_parameters(n_in, hidden, config.training.n_classes)
    width = max([n_in, *hidden, config.training.n_classes])
    # The key to name: the widest hidden layer, unless the class head is the bigger matrix.
    biggest = "training.n_classes" if hidden[-1] * config.training.n_classes > max(hidden) * max(n_in, max(hidden)) else "model.hidden"
    return [
        Part(biggest, f"{n_variants} networks with optimiser state", n_variants * PARAM_COPIES * parameters * FLOAT),
        Part("training.batch_size", "one batch's activations", n_variants * config.training.batch_size * (sum(hidden) + n_in + config.training.n_classes) * ACTIVATION_COPIES * FLOAT),
        # Labels of every task are drawn for every image, and the class logits of a whole
        # evaluation pass are held at once.
        Part("training.n_classes", "labels and logits", config.data.n_images * config.training.n_classes * FLOAT * 2),
        _images(config),
        *_instruments(config, parameters, n_in, width),
    ]


def _interventions(config: Any) -> list[Part]:
    n_in = _pixels(config)
    c, h, w = _image_shape(config)
    n_out = config.task.n_classes if config.task.targets == "labels" else config.task.n_outputs
    n_out = max(n_out, config.interventions.two_hot.n_bins * config.task.n_outputs)
    parts: list[Part] = [_images(config)]
    biggest_network = (0, "models.mlp.hidden", 1)
    for arch in config.grid.architectures:
        if arch == "mlp":
            hidden = list(config.models.mlp.hidden)
            n, key, width = _mlp_parameters(n_in, hidden, n_out), "models.mlp.hidden", max([n_in, *hidden, n_out])
            acts = sum(hidden) + n_in
        elif arch == "cnn":
            cnn = config.models.cnn
            chans = [c, *cnn.channels]
            convs = sum(a * b * 9 + b for a, b in zip(chans, chans[1:]))
            n = convs + _mlp_parameters(cnn.channels[-1] * 16, [cnn.hidden], n_out)
            key, width = "models.cnn.channels", max(cnn.channels) * h * w
            acts = sum(cnn.channels) * h * w + cnn.hidden
        elif arch == "vit":
            vit = config.models.vit
            tokens = (h // vit.patch_size) * (w // vit.patch_size) + 1
            block = 4 * vit.dim * vit.dim + 2 * vit.dim * vit.dim * vit.mlp_ratio
            n = vit.depth * block + vit.dim * (c * vit.patch_size**2 + tokens + n_out)
            key, width = "models.vit.dim", tokens * vit.dim * vit.mlp_ratio
            # Attention holds a tokens x tokens map a head, a layer.
            acts = vit.depth * tokens * (vit.dim * (3 + vit.mlp_ratio) + vit.heads * tokens)
        else:
            n, key, width, acts = RESNET18_PARAMETERS, "grid.architectures", 64 * h * w, 64 * h * w * 20
        parts.append(Part(key, f"{arch} network with optimiser state", PARAM_COPIES * n * FLOAT))
        parts.append(Part("training.batch_size", f"{arch} batch activations", config.training.batch_size * acts * ACTIVATION_COPIES * FLOAT))
        if n > biggest_network[0]:
            biggest_network = (n, key, width)
    parameters, _, width = biggest_network
    parts.append(Part("task.n_outputs", "targets", config.data.n_images * n_out * FLOAT * 2))
    parts.extend(_instruments(config, parameters, n_in, width))
    parts.extend(_intervention_copies(config, parameters, n_out))
    return parts


def _intervention_copies(config: Any, parameters: int, n_out: int) -> list[Part]:
    """What some interventions keep beyond PARAM_COPIES: TRAC its reference, its accumulated
    updates and the parameters before a step (3 copies); plasticity injection two frozen heads per
    injection (at most one a task change); a full reset one fresh network while it copies."""
    names = {name for combination in config.grid.interventions for name in combination.split("+")}
    parts = []
    if "trac" in names:
        parts.append(Part("grid.interventions", "TRAC's reference, updates and previous parameters", 3 * parameters * FLOAT))
    if "plasticity_injection" in names:
        heads = 2 * (config.task.n_iterations - 1) // config.interventions.plasticity_injection.every_task_changes
        # A head reads the last hidden layer (twice its width under CReLU or DFF).
        reads = {"mlp": 2 * config.models.mlp.hidden[-1], "cnn": 2 * config.models.cnn.hidden, "vit": config.models.vit.dim, "resnet18": 512}
        head = max(reads[arch] for arch in config.grid.architectures) * n_out
        parts.append(Part("task.n_iterations", "injected heads (frozen old and copy)", heads * head * FLOAT))
    if "full_reset" in names:
        parts.append(Part("grid.interventions", "a fresh network for the full reset", parameters * FLOAT))
    return parts


def _block_mdp(config: Any) -> list[Part]:
    n_in = _pixels(config)
    c, h, w = _image_shape(config)
    n_actions = config.env.n_actions or CLASSES_IN_DATASET
    copies = 2 if config.training.brownian else 1
    groups = len(config.env.rewards)
    parts: list[Part] = [_images(config)]
    biggest = 0
    for name, agent in config.agents.items():
        if agent.torso == "cnn":
            chans = [c, *agent.channels]
            convs = sum(a * b * 9 + b for a, b in zip(chans, chans[1:]))
            side = max(1, h >> len(agent.channels)) * max(1, w >> len(agent.channels))
            n = convs + _mlp_parameters(agent.channels[-1] * side, list(agent.hidden), n_actions)
            acts = sum(ch * (h >> (i + 1)) * (w >> (i + 1)) for i, ch in enumerate(agent.channels)) + sum(agent.hidden)
            key = f"agents.{name}.channels"
        else:
            n = _mlp_parameters(n_in, list(agent.hidden), n_actions)
            acts = n_in + sum(agent.hidden) + n_actions
            key = f"agents.{name}.hidden"
        biggest = max(biggest, n)
        # Online and target networks, each with optimiser state.
        parts.append(Part(key, f"{name}: Q-networks with optimiser state", groups * copies * 2 * PARAM_COPIES * n * FLOAT))
        # Two observations (uint8) and five small fields a transition.
        transition = 2 * n_in + 8 + 4 + 4 + 8
        parts.append(Part(f"agents.{name}.buffer_size", f"{name}: replay buffer", groups * copies * agent.buffer_size * transition))
        parts.append(Part(f"agents.{name}.batch_size", f"{name}: batch activations", groups * copies * agent.batch_size * acts * ACTIVATION_COPIES * FLOAT * 2))
    # Transition and reward tables: (classes or images) x actions, several of each.
    rows = max(CLASSES_IN_DATASET, config.data.n_images)
    parts.append(Part("env.n_actions", "environment tables", groups * rows * n_actions * 8 * 3))
    parts.extend(_instruments(config, biggest, n_in, n_in))
    return parts


ATARI_FRAMES = (4, 84, 84)  # the stacked observation
ATARI_MAX_ACTIONS = 18


def _atari(config: Any) -> list[Part]:
    """The replay buffer dominates: two stacked uint8 observations (56 KB) a transition."""
    n_in = ATARI_FRAMES[0] * ATARI_FRAMES[1] * ATARI_FRAMES[2]
    parts: list[Part] = []
    for name, agent in config.agents.items():
        if agent.torso == "nature_cnn":
            (k1, s1), (k2, s2), (k3, s3) = (8, 4), (4, 2), (3, 1)
            side = (((84 - k1) // s1 + 1 - k2) // s2 + 1 - k3) // s3 + 1
            c1, c2, c3 = agent.channels
            convs = 4 * c1 * k1 * k1 + c1 * c2 * k2 * k2 + c2 * c3 * k3 * k3 + c1 + c2 + c3
            n = convs + _mlp_parameters(c3 * side * side, list(agent.hidden), ATARI_MAX_ACTIONS)
        else:
            n = _mlp_parameters(n_in, list(agent.hidden), ATARI_MAX_ACTIONS)
        parts.append(Part(f"agents.{name}.hidden", f"{name}: Q-networks with optimiser state", 2 * PARAM_COPIES * n * FLOAT))
        parts.append(Part(f"agents.{name}.buffer_size", f"{name}: replay buffer", agent.buffer_size * (2 * n_in + 8 + 4 + 4 + 8)))
        # a decoded float batch of observations and next observations
        parts.append(Part(f"agents.{name}.batch_size", f"{name}: batch", agent.batch_size * 2 * n_in * FLOAT * ACTIVATION_COPIES))
    return parts


# -- populations -------------------------------------------------------------------------
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
            import torch

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
