"""What an Adam-instability run holds: every variant's network with its optimiser state, one
batch's activations, the labels and logits, the images, and the instruments' copies."""

from __future__ import annotations

from typing import Any

from plastilab.core.memory_estimate import ACTIVATION_COPIES, FLOAT, PARAM_COPIES, Part, images, mlp_parameters, pixels
from plastilab.instruments.memory import instrument_parts


def estimate(config: Any) -> list[Part]:
    n_in = pixels(config)
    hidden = list(config.model.hidden)
    n_variants = len(config.variants)
    parameters = mlp_parameters(n_in, hidden, config.training.n_classes)
    width = max([n_in, *hidden, config.training.n_classes])
    # The key to name: the widest hidden layer, unless the class head is the bigger matrix.
    biggest = "training.n_classes" if hidden[-1] * config.training.n_classes > max(hidden) * max(n_in, max(hidden)) else "model.hidden"
    return [
        Part(biggest, f"{n_variants} networks with optimiser state", n_variants * PARAM_COPIES * parameters * FLOAT),
        Part("training.batch_size", "one batch's activations", n_variants * config.training.batch_size * (sum(hidden) + n_in + config.training.n_classes) * ACTIVATION_COPIES * FLOAT),
        # Labels of every task are drawn for every image, and the class logits of a whole
        # evaluation pass are held at once.
        Part("training.n_classes", "labels and logits", config.data.n_images * config.training.n_classes * FLOAT * 2),
        images(config),
        *instrument_parts(config, parameters, n_in, width),
    ]
