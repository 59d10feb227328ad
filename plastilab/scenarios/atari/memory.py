"""What an Atari run holds. The replay buffer dominates, with two stacked uint8 observations (56 KB) a
transition; then the Q-networks with their optimiser state and a decoded batch."""

from __future__ import annotations

from typing import Any

from plastilab.core.memory_estimate import ACTIVATION_COPIES, FLOAT, PARAM_COPIES, Part, mlp_parameters

ATARI_FRAMES = (4, 84, 84)  # the stacked observation
ATARI_MAX_ACTIONS = 18


def estimate(config: Any) -> list[Part]:
    n_in = ATARI_FRAMES[0] * ATARI_FRAMES[1] * ATARI_FRAMES[2]
    parts: list[Part] = []
    for name, agent in config.agents.items():
        if agent.torso == "nature_cnn":
            (k1, s1), (k2, s2), (k3, s3) = (8, 4), (4, 2), (3, 1)
            side = (((84 - k1) // s1 + 1 - k2) // s2 + 1 - k3) // s3 + 1
            c1, c2, c3 = agent.channels
            convs = 4 * c1 * k1 * k1 + c1 * c2 * k2 * k2 + c2 * c3 * k3 * k3 + c1 + c2 + c3
            n = convs + mlp_parameters(c3 * side * side, list(agent.hidden), ATARI_MAX_ACTIONS)
        else:
            n = mlp_parameters(n_in, list(agent.hidden), ATARI_MAX_ACTIONS)
        parts.append(Part(f"agents.{name}.hidden", f"{name}: Q-networks with optimiser state", 2 * PARAM_COPIES * n * FLOAT))
        parts.append(Part(f"agents.{name}.buffer_size", f"{name}: replay buffer", agent.buffer_size * (2 * n_in + 8 + 4 + 4 + 8)))
        # a decoded float batch of observations and next observations
        parts.append(Part(f"agents.{name}.batch_size", f"{name}: batch", agent.batch_size * 2 * n_in * FLOAT * ACTIVATION_COPIES))
    return parts
