"""One object a training loop calls: it runs whatever instruments are due and returns events.

    suite = InstrumentSuite(config.instruments, probe_inputs=images, seed=seed)
    suite.start("adam-default", model)                      # θ_0 and the probe's baseline
    for step in range(1, steps + 1):
        suite.before_step(step, "adam-default", model)      # optional: exact updates/ratio
        ...one optimiser step...
        events += suite.measure(step, "adam-default", model, loss_fn=F.cross_entropy,
                                batch=(x, y), labels=y)

The suite runs the registered instruments (``registry``) whose tables are present and on, in
their ``Order.run`` order. An instrument runs at every step divisible by its ``every`` (0
switches it off). ``measure`` returns one ``Scalars`` event with every scalar measured, then the
array events. Each instrument's file (``plastilab.instruments.builtin``) lists its tags;
docs/instruments.md defines every one.

State kept per series: θ_0, each instrument's baselines, the parameters before the last step.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from plastilab.core.events import Event, Log, Scalars
from plastilab.instruments import registry
from plastilab.instruments.base import Instrument, MeasureRequest, SuiteInputs
from plastilab.instruments.functional import LossFn, snapshot_params, trainable_params
from plastilab.instruments.schema import InstrumentsConfig


class InstrumentSuite:
    """The instruments of one run; ``probe_inputs`` are required when the probe is on.

    ``inputs`` are the named inputs the instruments declare in ``Instrument.needs``:
    ``stats_inputs`` are the examples unit and rank statistics look at (a fixed set makes the
    curves comparable over time; by default the probe's inputs, else the batch given to measure),
    ``probe_loss_kind`` and ``probe_target_model`` the probe's loss and target network.
    """

    def __init__(self, config: InstrumentsConfig, probe_inputs: torch.Tensor | None = None, seed: int = 0, **inputs: Any) -> None:
        self.config = config
        self.seed = seed
        self.registered = registry.run_order()
        if inputs.get("stats_inputs") is None:
            inputs["stats_inputs"] = probe_inputs
        given = SuiteInputs(seed, probe_inputs=probe_inputs, **inputs)
        # One instrument per table that is present and switched on, in their run order.
        self.instruments: list[Instrument] = [
            cls(table, given)
            for name, cls in self.registered.items()
            if (table := getattr(config, name, None)) is not None and getattr(table, "every", 0) > 0
        ]
        self._init: dict[str, dict[str, torch.Tensor]] = {}
        self._before: dict[str, tuple[int, dict[str, torch.Tensor]]] = {}

    def instrument(self, name: str) -> Instrument | None:
        """The instrument ``name`` of this suite; None when its table is absent or off."""
        return next((i for i in self.instruments if i.name == name), None)

    def batch_examples(self, default: int = 64) -> int:
        """Examples a measurement batch needs so that every instrument that takes one gets its
        ``n_examples`` (each table present counts, on or off, so switching one off never changes
        what the others are measured on)."""
        sizes = [
            table.n_examples
            for name, cls in self.registered.items()
            if cls.takes_batch and (table := getattr(self.config, name, None)) is not None
        ]
        return max(sizes, default=default)

    def due(self, step: int) -> set[str]:
        """The instruments that run at ``step``."""
        return {i.name for i in self.instruments if i.due(step)}

    def start(self, series: str, model: nn.Module) -> list[Event]:
        """Call once before training: keeps θ_0 and, if the probe is on, probes it (the baseline).

        Returns the baseline's events at step 0 (none when the probe is off). Series that start
        from the same network (the Adam scenario's variants) share one baseline measurement: the
        probe is deterministic, so probing the same network again would only repeat its numbers.
        """
        self._init[series] = snapshot_params(model)
        values: dict[str, float] = {}
        arrays: list[Event] = []
        for instrument in self.instruments:
            measured = instrument.start(series, model)
            if measured is not None:
                values.update(measured.scalars)
                arrays.extend(measured.arrays)
        scalars = [Scalars(0, series, values, time.time())] if values else []
        return scalars + arrays

    def state_dict(self) -> dict[str, Any]:
        """What a run's checkpoint keeps between steps: θ_0 of every series and each
        instrument's baselines (the parameters copied by ``before_step`` live within a step)."""
        return {
            "init": {series: dict(params) for series, params in self._init.items()},
            "instruments": {i.name: i.state_dict() for i in self.instruments},
        }

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        """Take back a checkpoint's state instead of calling ``start`` (a resumed run); θ_0 goes
        to ``device``, the networks' device."""
        self._init = {series: {k: t.to(device) for k, t in params.items()} for series, params in state["init"].items()}
        for instrument in self.instruments:
            instrument.load_state_dict(state["instruments"].get(instrument.name, {}))

    def before_step(self, step: int, series: str, model: nn.Module) -> None:
        """Call just before the optimiser step of ``step``; it copies the parameters only when an
        instrument that needs them (stats' update ratios) is due, so ``updates/ratio`` is exactly
        that step's update."""
        if any(i.needs_previous_params and i.due(step) for i in self.instruments):
            self._before[series] = (step, snapshot_params(model))

    def measure(
        self,
        step: int,
        series: str,
        model: nn.Module,
        *,
        loss_fn: LossFn | None = None,
        batch: tuple[torch.Tensor, Any] | None = None,
        labels: torch.Tensor | np.ndarray | None = None,
        init_params: dict[str, torch.Tensor] | None = None,
        previous_params: dict[str, torch.Tensor] | None = None,
    ) -> list[Event]:
        """Run the instruments due at ``step`` on ``model`` (after that step's update).

        ``loss_fn(outputs, targets)`` and ``batch = (inputs, targets)`` define the loss for the
        Hessian, the gradient covariance and a gradient norm when no ``.grad`` is left; ``labels``
        (class or task per example of ``batch``) order the covariance. ``init_params`` and
        ``previous_params`` override θ_0 from :meth:`start` and the copy from :meth:`before_step`.
        """
        for instrument in self.instruments:  # every call: the gradient-norm window of stats
            observe = getattr(instrument, "observe_step", None)
            if observe is not None:
                observe(step, series, model)
        due = [i for i in self.instruments if i.due(step)]
        if not due:
            return []
        now = time.time()
        previous = previous_params
        if previous is None and any(i.needs_previous_params for i in due) and self._before.get(series, (None,))[0] == step:
            previous = self._before.pop(series)[1]
        request = MeasureRequest(step, series, model, loss_fn, batch, labels, init_params or self._init.get(series), previous)
        logs: list[Event] = []
        heavy = [i.name for i in due if i.needs_finite_parameters]
        if heavy and not all(bool(torch.isfinite(p).all()) for p in trainable_params(model).values()):
            logs.append(Log("warning", f"{series}: parameters are not finite; skipped {', '.join(heavy)}", step))
            due = [i for i in due if not i.needs_finite_parameters]
        values: dict[str, float] = {}
        arrays: list[Event] = []
        for instrument in due:
            measured = instrument.measure(request)
            values.update(measured.scalars)
            arrays.extend(measured.arrays)
        scalars = [Scalars(step, series, values, now)] if values else []
        return scalars + arrays + logs
