"""What every scenario runner shares, written once so the runners cannot drift apart.

* ``load_scenario_images`` - a scenario's ``[data]`` images (the error names the file and key);
* ``check_finite_loss`` - stop a run whose loss went NaN/inf with a line naming the key to change;
* ``WindowedMean`` - the mean of a value since the last log, summed on the device (no host sync);
* ``make_optimizer`` - Adam or SGD from a name and its settings;
* ``counting_dead_units`` - the one definition of a dead unit, counted during a forward pass;
* ``merge_instrument_output`` - the one rule for folding the instruments' scalars into a runner's;
* ``to_device`` - a tensor made on the CPU (indices from a CPU generator) onto the run's device
  without making the host wait for the device.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from plastilab.core.context import RunContext
from plastilab.core.errors import NonFiniteLoss
from plastilab.core.events import Event, Scalars

# Units that can die: the activation is (close to) zero for every non-positive pre-activation.
# The same modules the unit-statistics instrument hooks, so the runners' dead fraction and the
# instrument's agree. Tanh and sigmoid units saturate instead; they are never counted dead.
from plastilab.instruments.unit_stats import RELU_LIKE
from plastilab.data.datasets import load_images


def load_scenario_images(config: Any, ctx: RunContext, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (and class labels) of the scenario's ``[data]`` table for ``seed`` (None: the
    scenario's seed), on the CPU: each seed of a run sees the images a run of that seed alone sees."""

    data = config.data
    seed = config.seed if seed is None else seed
    return load_images(data.dataset, data.n_images, seed, data.data_dir, data.download, source=ctx.source)


def check_finite_loss(value: float, *, series: str, step: int, key: str, ctx: RunContext, what: str = "loss", also: str = "") -> None:
    """Raise ``NonFiniteLoss`` (one line: the file, the key to lower, the series and step) when
    ``value`` is NaN or infinite. ``also`` names another key that would help, e.g. `` (or training.lr)``."""
    if not math.isfinite(value):
        raise NonFiniteLoss(
            f"{ctx.source}: {key}: the {what} of series {series!r} became {value} at step {step}; "
            f"lower {key}{also} and run again"
        )


class WindowedMean:
    """The mean of the values added since the last ``take``.

    Values are summed into a tensor on their device, so adding a loss costs no host sync; the
    one sync is at ``take`` (a log step).
    """

    def __init__(self, device: torch.device | str | None = None) -> None:
        self._sum = torch.zeros((), device=device)
        self.count = 0

    def add(self, value: torch.Tensor | float) -> None:
        self._sum += value.detach() if isinstance(value, torch.Tensor) else value
        self.count += 1

    def take(self) -> float | None:
        """The mean since the last take (None if nothing was added), and a fresh window."""
        if not self.count:
            return None
        return self.take_tensor().item()

    def take_tensor(self) -> torch.Tensor:
        """``take`` as a 0-d tensor on the device (NaN if nothing was added): read it together
        with other numbers in one host sync."""
        mean = self._sum / self.count if self.count else torch.full_like(self._sum, math.nan)
        self._sum.zero_()
        self.count = 0
        return mean

    def state_dict(self) -> dict:
        return {"sum": self._sum.clone(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self._sum.copy_(state["sum"])
        self.count = int(state["count"])


def add_intervention_scalars(window: dict[str, float], values: dict[str, float] | None) -> None:
    """Fold one step's intervention scalars (``DQNStep.interventions``) into the window logged at
    the next log step: counts (``…_units``) add up, a setting (C-CHAIN's λ) keeps its latest."""
    for tag, value in (values or {}).items():
        window[tag] = window.get(tag, 0.0) + value if tag.endswith("_units") else value


def to_device(tensor: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``tensor``, made on the CPU, on ``device``. For CUDA the copy goes from pinned memory and
    is non-blocking: the host queues it behind the work already queued and goes on (a copy from
    ordinary memory would make the host wait). Data streams draw on CPU generators so every
    device sees the same stream; this is how their draws reach the device."""
    device = torch.device(device)
    if device.type == "cpu":
        return tensor
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def make_optimizer(
    name: str,
    params: Iterable[nn.Parameter],
    lr: float,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    momentum: float = 0.0,
) -> torch.optim.Optimizer:
    """``adam`` (with ``betas`` and ``eps``) or ``sgd`` (with ``momentum``)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    raise ValueError(f"unknown optimiser {name!r}; allowed: adam, sgd")


class DeadUnitCount:
    """Dead and total units seen by the forward passes of a ``counting_dead_units`` block.
    ``dead`` stays on the device until ``fraction`` reads it (one host sync, not one a layer)."""

    def __init__(self) -> None:
        self.dead: torch.Tensor | int = 0
        self.total = 0

    @property
    def fraction(self) -> float | None:
        """None when the model has no units that can die (tanh, sigmoid): no number rather than a false 0."""
        return int(self.dead) / self.total if self.total else None

    def hook(self, _module: nn.Module, args: tuple, _output: torch.Tensor) -> None:
        pre = args[0].detach()
        if pre.dim() == 4:  # (N, C, H, W): channels are units, every position is an input
            pre = pre.transpose(0, 1).flatten(1).T
        else:
            pre = pre.reshape(-1, pre.shape[-1])
        alive = (pre > 0).any(0)
        self.dead = self.dead + (~alive).sum()
        self.total += alive.numel()


@contextlib.contextmanager
def counting_dead_units(model: nn.Module) -> Iterator[DeadUnitCount]:
    """The one definition of a dead unit: a unit of a ReLU-like activation module (``RELU_LIKE``)
    whose pre-activation is positive on no input of the forward passes made inside the block (a
    ReLU outputs zero on all of them). A unit is a feature of a (batch, features) input, a channel
    of a conv map; a module called twice counts its units twice. Piggybacks on forward passes the
    caller makes anyway, so counting costs no extra pass (nor an extra batch-norm update)."""
    count = DeadUnitCount()
    handles = [m.register_forward_hook(count.hook) for m in model.modules() if isinstance(m, RELU_LIKE)]
    try:
        yield count
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def forward_counting_dead_units(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, float | None]:
    """The model's output on ``x`` and the fraction of its units dead on ``x`` (None: none can die)."""
    with counting_dead_units(model) as count:
        output = model(x)
    return output, count.fraction


def merge_instrument_output(own: dict[str, float], events: list[Event]) -> list[Event]:
    """Fold the instruments' scalars of this step and series into ``own``; return the rest.

    The rule: the runner's own value of a tag wins (it measured it on what it trains on, e.g.
    every image of the task); the instruments add every tag the runner does not measure (per-layer
    detail, ranks, the probe). ``events`` is what ``InstrumentSuite.measure`` returned for the
    same step and series: its ``Scalars`` (at most one) is merged, arrays and logs come back.
    """
    rest = []
    for event in events:
        if isinstance(event, Scalars):
            for tag, value in event.values.items():
                own.setdefault(tag, value)
        else:
            rest.append(event)
    return rest
