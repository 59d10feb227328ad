"""LoP's slowly-changing regression (Dohare et al. 2024; the bit-flipping problem), as a task stream.

An input is n bits (LoP: 20). The first ``n_slow_bits`` (15) are the slowly changing part: held
for a whole iteration, then changed (``redraw``: all drawn anew; ``flip_one``: one of them,
chosen at random, flipped). The other bits are drawn anew for every example. The target is a
fixed network of linear threshold units, the same for the whole run:

    h_i = 1 if w_i · x + b_i > τ_i else 0      100 hidden units, every w_ij and b_i in {−1, +1}
    τ_i = β (n + 1) − S_i,   S_i = (n − Σ_j w_ij + b_i) / 2      β = 0.7
    y   = v · h + c                            output linear, v_i and c in {−1, +1}

(S_i as LoP's ``FixLTUNet`` computes it.) Since the fast bits are uniform and independent, an
iteration's task is exactly the 2^(n − n_slow_bits) inputs that share its slow bits, each
equally likely: ``inputs`` gives all of them, and the runner's uniform draw of one index a step
(batch_size 1) is LoP's online stream, each step a fresh example. The loss on all of them at an
iteration's end is the task's exact expected error.

Everything depends only on the seed it is built with: the target network, the slow bits of
every iteration (``derive_seed(seed, iteration)``), and the reference inputs.
"""

from __future__ import annotations

import itertools

import torch

from plastilab.scenarios.interventions.schema import SlowlyChangingRegressionOptions
from plastilab.scenarios.interventions.streams.task_seeds import derive_seed

REFERENCE_INPUTS = 256  # random bit vectors: the inputs units are scored on, the instruments' inputs
TARGET_NETWORK, SLOW_BITS, REFERENCE = 0, 1, 2  # what a derived seed is for


def as_images(bits: torch.Tensor) -> torch.Tensor:
    """(N, n) bits as (N, 1, 1, n): a one-row image, the shape every model builder takes."""
    return bits.reshape(len(bits), 1, 1, bits.shape[-1])


class LTUTargetNetwork:
    """The fixed target: one hidden layer of linear threshold units, all weights and biases ±1."""

    def __init__(self, n_inputs: int, n_hidden: int, beta: float, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)

        def signs(*shape: int) -> torch.Tensor:
            return torch.randint(0, 2, shape, generator=generator).float() * 2 - 1

        self.w, self.b = signs(n_hidden, n_inputs), signs(n_hidden)
        self.v, self.c = signs(n_hidden), signs(1)
        s = (n_inputs - self.w.sum(1) + self.b) / 2
        self.tau = beta * (n_inputs + 1) - s

    def hidden(self, bits: torch.Tensor) -> torch.Tensor:
        return (bits @ self.w.T + self.b > self.tau).float()

    def __call__(self, bits: torch.Tensor) -> torch.Tensor:
        """(N, n) bits -> (N, 1) targets."""
        return (self.hidden(bits) @ self.v + self.c).unsqueeze(1)


class SlowlyChangingRegression:
    def __init__(self, options: SlowlyChangingRegressionOptions, seed: int) -> None:
        self.options = options
        self.seed = seed
        self.n_classes = None  # a regression
        self.target = LTUTargetNetwork(options.n_inputs, options.target_hidden, options.beta, derive_seed(seed, TARGET_NETWORK))
        n_fast = options.n_inputs - options.n_slow_bits
        self.fast = torch.tensor(list(itertools.product((0.0, 1.0), repeat=n_fast)))  # every combination
        self._slow: list[torch.Tensor] = []  # the slow bits of iterations 0, 1, ... as far as asked

    def slow_bits(self, iteration: int) -> torch.Tensor:
        """The slowly changing part of iteration ``iteration``'s inputs."""
        n = self.options.n_slow_bits
        while len(self._slow) <= iteration:
            i = len(self._slow)
            generator = torch.Generator().manual_seed(derive_seed(self.seed, SLOW_BITS, i))
            if i == 0 or self.options.change == "redraw":
                bits = torch.randint(0, 2, (n,), generator=generator).float()
            else:  # flip_one: the previous iteration's bits with one of them flipped
                bits = self._slow[-1].clone()
                k = int(torch.randint(0, n, (1,), generator=generator))
                bits[k] = 1 - bits[k]
            self._slow.append(bits)
        return self._slow[iteration]

    def bits(self, iteration: int) -> torch.Tensor:
        """(2^fast, n): the iteration's slow bits beside every combination of the fast bits."""
        slow = self.slow_bits(iteration).expand(len(self.fast), -1)
        return torch.cat([slow, self.fast], dim=1)

    def draw(self, iteration: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Iteration ``iteration``'s inputs and targets (what the runner draws its examples from)."""
        return self.inputs(iteration), self.targets(iteration)

    def inputs(self, iteration: int) -> torch.Tensor:
        """Iteration ``iteration``'s inputs, as one-row images."""
        return as_images(self.bits(iteration))

    def targets(self, iteration: int) -> torch.Tensor:
        return self.target(self.bits(iteration))


def reference_inputs(options: SlowlyChangingRegressionOptions, seed: int) -> torch.Tensor:
    """Random inputs of the whole input space (every bit uniform), as one-row images: what the
    runner scores units on and the instruments measure on, the same for every iteration."""
    generator = torch.Generator().manual_seed(derive_seed(seed, REFERENCE))
    return as_images(torch.randint(0, 2, (REFERENCE_INPUTS, options.n_inputs), generator=generator).float())
