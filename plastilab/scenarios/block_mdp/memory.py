"""What a block-MDP run holds: every agent's online and target networks with optimiser state,
its replay buffer and batches (twice with a Brownian copy, once a reward variant), the
environment's tables, the images and the instruments' copies."""

from __future__ import annotations

from typing import Any

from plastilab.core.memory_estimate import ACTIVATION_COPIES, CLASSES_IN_DATASET, FLOAT, PARAM_COPIES, Part, image_shape, images, mlp_parameters, pixels
from plastilab.instruments.memory import instrument_parts


def estimate(config: Any) -> list[Part]:
    n_in = pixels(config)
    c, h, w = image_shape(config)
    n_actions = config.env.n_actions or CLASSES_IN_DATASET
    copies = 2 if config.training.brownian else 1
    groups = len(config.env.rewards)
    parts: list[Part] = [images(config)]
    biggest = 0
    for name, agent in config.agents.items():
        if agent.torso == "cnn":
            chans = [c, *agent.channels]
            convs = sum(a * b * 9 + b for a, b in zip(chans, chans[1:]))
            side = max(1, h >> len(agent.channels)) * max(1, w >> len(agent.channels))
            n = convs + mlp_parameters(agent.channels[-1] * side, list(agent.hidden), n_actions)
            acts = sum(ch * (h >> (i + 1)) * (w >> (i + 1)) for i, ch in enumerate(agent.channels)) + sum(agent.hidden)
            key = f"agents.{name}.channels"
        else:
            n = mlp_parameters(n_in, list(agent.hidden), n_actions)
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
    parts.extend(instrument_parts(config, biggest, n_in, n_in))
    return parts
