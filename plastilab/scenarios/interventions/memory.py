"""What an interventions run holds: a network a architecture of the grid with its optimiser
state and batch activations, the targets, the images, the instruments' copies, and what some
interventions keep besides."""

from __future__ import annotations

from typing import Any

from plastilab.core.memory_estimate import ACTIVATION_COPIES, FLOAT, PARAM_COPIES, Part, RESNET18_PARAMETERS, image_shape, images, mlp_parameters, pixels
from plastilab.instruments.memory import instrument_parts


def estimate(config: Any) -> list[Part]:
    n_in = pixels(config)
    c, h, w = image_shape(config)
    n_out = config.task.n_classes if config.task.targets == "labels" else config.task.n_outputs
    n_out = max(n_out, config.interventions.two_hot.n_bins * config.task.n_outputs)
    parts: list[Part] = [images(config)]
    biggest_network = (0, "models.mlp.hidden", 1)
    for arch in config.grid.architectures:
        if arch == "mlp":
            hidden = list(config.models.mlp.hidden)
            n, key, width = mlp_parameters(n_in, hidden, n_out), "models.mlp.hidden", max([n_in, *hidden, n_out])
            acts = sum(hidden) + n_in
        elif arch == "cnn":
            cnn = config.models.cnn
            chans = [c, *cnn.channels]
            convs = sum(a * b * 9 + b for a, b in zip(chans, chans[1:]))
            n = convs + mlp_parameters(cnn.channels[-1] * 16, [cnn.hidden], n_out)
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
    parts.extend(instrument_parts(config, parameters, n_in, width))
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
