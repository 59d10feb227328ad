"""One object a training loop calls: it runs whatever instruments are due and returns events.
(Over 300 lines because the built-in instrument classes still live here beside the suite; each
is to become a file of its own, declaring its schema, cost and memory.)

    suite = InstrumentSuite(config.instruments, probe_inputs=images, seed=seed)
    suite.start("adam-default", model)                      # θ_0 and the probe's baseline
    for step in range(1, steps + 1):
        suite.before_step(step, "adam-default", model)      # optional: exact updates/ratio
        ...one optimiser step...
        events += suite.measure(step, "adam-default", model, loss_fn=F.cross_entropy,
                                batch=(x, y), labels=y)

An instrument runs at every step divisible by its ``every`` (0 switches it off). ``measure``
returns one ``Scalars`` event with every scalar measured, then the array events. Tags:

* stats: ``units/{dead,dormant,saturated,rarely_active}_fraction``, ``units/active_fraction``,
  ``units/dormant_fraction_layer_mean``, ``units/preact_{mean,std}``,
  ``features/{effective,stable,approximate}_rank``, ``features/norm``,
  ``features/variance_across_{units,samples}``, ``weights/{norm,rms,mean_abs,rms_change}``,
  ``weights/distance_from_init``, ``grads/norm``, ``grads/norm_mean``, ``updates/ratio``; each
  also per layer as ``<tag>/<layer>`` (docs/instruments.md defines every one);
* probe: ``probe/{initial,final}_loss`` (raw, before and after the probe's training),
  ``probe/{initial,final}_loss_scaled`` (scale-free), ``probe/plasticity_loss`` (scale-free final
  loss minus its value at θ_0), ``probe/plasticity_loss_raw``, a ``Curve`` ``probe/curve`` (mean
  over the K targets) and a ``Matrix`` ``probe/target_curves`` (one row a target's curve);
* hessian: ``hessian/top_eigenvalue`` (``hessian/eigenvalue_<i>`` for i = 2..top_k),
  ``hessian/smallest_eigenvalue`` (``_<i>`` for i = 2..smallest_k, when asked), ``hessian/trace``,
  a ``Histogram`` ``hessian/density`` and a ``Matrix`` ``hessian/quadrature`` (the raw nodes and
  weights, one row a chain: ``nodes <s>`` rows then ``weights <s>`` rows) to redo any smoothing;
* covariance: ``gradients/{mean,within_class,across_class}_similarity`` and a ``Matrix``
  ``gradients/covariance``;
* policy (``instruments/policy.py``, Q-networks): ``policy/{softmax,greedy}_entropy``,
  ``policy/churn_{fraction,q}``.

State kept per series: θ_0, the probe baseline, the parameters before the last step.

The suite iterates ``base.REGISTRY``; each instrument is a ``base.Instrument``. The four below
wrap the measurement modules (``unit_stats``, ``weight_stats``, ``plasticity_probe``,
``hessian_spectrum``, ``gradient_covariance``) behind that one interface.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad

from plastilab.core.events import Curve, Event, Histogram, Log, Matrix, Scalars
from plastilab.instruments.base import REGISTRY, Instrument, Measurement, MeasureRequest, SuiteInputs, instrument_class
from plastilab.instruments.functional import (
    LossFn,
    batch_size,
    isolated_rng,
    model_device,
    private_copy,
    snapshot_params,
    take,
    to_device,
    trainable_params,
)
from plastilab.instruments.gradient_covariance import gradient_covariance
from plastilab.instruments.hessian_products import choices_state, restore_choices
from plastilab.instruments.hessian_spectrum import HessianSpectrum
from plastilab.instruments.plasticity_probe import LossKind, PlasticityProbe
from plastilab.instruments.schema import InstrumentsConfig
from plastilab.instruments.unit_stats import record_activity, unit_statistics
from plastilab.instruments.weight_stats import (
    distance_from_init,
    gradient_norms,
    rms_change,
    total_gradient_norm,
    update_ratios,
    weight_magnitudes,
    weight_norms,
)



class InstrumentSuite:
    """The instruments of one run; ``probe_inputs`` are required when the probe is on.

    ``stats_inputs`` are the examples unit and rank statistics look at (a fixed set makes the
    curves comparable over time); by default the probe's inputs, else the batch given to measure.
    """

    def __init__(
        self,
        config: InstrumentsConfig,
        probe_inputs: torch.Tensor | None = None,
        seed: int = 0,
        *,
        stats_inputs: torch.Tensor | None = None,
        probe_loss_kind: LossKind | None = None,
        probe_target_model: Callable[[], nn.Module] | None = None,
    ) -> None:
        self.config = config
        self.seed = seed
        inputs = SuiteInputs(
            seed=seed,
            probe_inputs=probe_inputs,
            stats_inputs=stats_inputs if stats_inputs is not None else probe_inputs,
            probe_loss_kind=probe_loss_kind,
            probe_target_model=probe_target_model,
        )
        # One instrument per table that is present and switched on, in registry order.
        self.instruments: list[Instrument] = [
            instrument_class(name)(table, inputs)
            for name in REGISTRY
            if (table := getattr(config, name, None)) is not None and getattr(table, "every", 0) > 0
        ]
        self._init: dict[str, dict[str, torch.Tensor]] = {}
        self._before: dict[str, tuple[int, dict[str, torch.Tensor]]] = {}

    @property
    def probe(self) -> PlasticityProbe | None:
        """The plasticity probe, when it is on."""
        found = self._instrument("probe")
        return found.probe if found is not None else None

    def _instrument(self, name: str) -> Instrument | None:
        return next((i for i in self.instruments if i.name == name), None)

    def batch_examples(self, default: int = 64) -> int:
        """Examples a measurement batch needs so that every instrument that takes one gets its
        ``n_examples`` (each table present counts, on or off, so switching one off never changes
        what the others are measured on)."""
        sizes = [
            table.n_examples
            for name in REGISTRY
            if instrument_class(name).takes_batch and (table := getattr(self.config, name, None)) is not None
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


# -- the instruments ---------------------------------------------------------------------------


class UnitAndWeightStats(Instrument):
    """``[instruments.stats]``: units, feature ranks, weight, gradient and update norms.

    Between measurements it keeps, per series, the parameters at the last measurement (for
    ``weights/rms_change``) and the sum of the gradient norms seen since then (for
    ``grads/norm_mean``): every call to the suite's ``measure``, due or not, adds the norm of the
    ``.grad`` the last backward left, so a loop that calls ``measure`` after every optimiser step
    (the interventions runner does) gets the mean over every step of the window.
    """

    name = "stats"
    needs_finite_parameters = False  # cheap, and NaN weights are worth seeing
    needs_previous_params = True
    takes_batch = True  # a fresh gradient when no .grad is left

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        super().__init__(config, inputs)
        self._last_measured: dict[str, dict[str, torch.Tensor]] = {}
        self._grad_window: dict[str, list] = {}  # series -> [sum of norms, count, last step counted]

    def observe_step(self, step: int, series: str, model: nn.Module) -> None:
        """After ``step``'s optimiser step: add the norm of its gradient to the window (once)."""
        window = self._grad_window.setdefault(series, [0.0, 0, 0])
        if window[2] == step:
            return
        norm = total_gradient_norm(model)
        if norm is not None:
            window[0] = window[0] + norm  # a tensor: no host sync until the measurement
            window[1] += 1
            window[2] = step

    def start(self, series: str, model: nn.Module) -> None:
        self._last_measured[series] = snapshot_params(model)
        return None

    def measure(self, at: MeasureRequest) -> Measurement:
        out = self._measure(at)
        self.observe_step(at.step, at.series, at.model)
        window = self._grad_window[at.series]
        if window[1]:
            out.scalars["grads/norm_mean"] = float(window[0]) / window[1]
        self._grad_window[at.series] = [0.0, 0, at.step]
        previous = self._last_measured.get(at.series)
        if previous is not None:
            out.scalars.update(rms_change(at.model, previous))
        self._last_measured[at.series] = snapshot_params(at.model)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "last_measured": {series: dict(p) for series, p in self._last_measured.items()},
            "grad_window": {series: [float(w[0]), w[1], w[2]] for series, w in self._grad_window.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._last_measured = {series: dict(p) for series, p in state.get("last_measured", {}).items()}
        self._grad_window = {series: list(w) for series, w in state.get("grad_window", {}).items()}

    def _measure(self, at: MeasureRequest) -> Measurement:
        cfg, model, batch = self.config, at.model, at.batch
        stats_inputs = self.inputs.stats_inputs
        inputs = stats_inputs if stats_inputs is not None else (batch[0] if batch is not None else None)
        out: dict[str, float] = {}
        if inputs is not None:
            inputs = inputs[: cfg.n_examples].to(model_device(model))
            out.update(unit_statistics(record_activity(model, inputs, seed=self.inputs.seed), cfg.dormant_threshold))
        out.update(weight_norms(model))
        out.update(weight_magnitudes(model))
        if at.init_params is not None:
            out.update(distance_from_init(model, at.init_params))
        grads = gradient_norms(model)
        if not grads and at.loss_fn is not None and batch is not None:
            grads = gradient_norms(model, self._fresh_gradient(model, at.loss_fn, _spread(batch, cfg.n_examples)[0]))
        out.update(grads)
        if at.previous_params is not None:
            out.update(update_ratios(model, at.previous_params))
        return Measurement(out)

    def _fresh_gradient(self, model, loss_fn, batch) -> dict[str, torch.Tensor]:
        """The loss gradient on ``batch``, without touching ``.grad`` or running statistics."""
        twin = private_copy(model)
        buffers = dict(twin.named_buffers())
        inputs, targets = to_device(batch, model_device(model))

        def loss(params):
            return loss_fn(functional_call(twin, (params, buffers), (inputs,)), targets)

        with isolated_rng(self.inputs.seed, model_device(model)):
            return grad(loss)(trainable_params(model))


class PlasticityProbeInstrument(Instrument):
    """``[instruments.probe]``: ``probe/final_loss``, ``probe/plasticity_loss``, ``probe/curve`` and
    ``probe/target_curves``."""

    name = "probe"

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        super().__init__(config, inputs)
        if inputs.probe_inputs is None:
            raise ValueError("the plasticity probe is on but no probe_inputs were given")
        self.probe = PlasticityProbe(
            inputs.probe_inputs, config, inputs.seed, loss_kind=inputs.probe_loss_kind, target_model=inputs.probe_target_model
        )
        self._baseline: dict[str, tuple[float, float]] = {}  # series -> (raw, scale-free) loss at θ_0
        # ((architecture, state_dict) at θ_0, baseline scalars, baseline arrays) of each start probed
        self._probed_starts: list[tuple[tuple[str, dict[str, torch.Tensor]], dict[str, float], list[Event]]] = []

    def start(self, series: str, model: nn.Module) -> Measurement:
        """The baseline at θ_0; a network probed before (bit for bit) reuses its numbers."""
        start = (repr(model), {name: t.detach().clone() for name, t in model.state_dict().items()})
        for known, values, arrays in self._probed_starts:
            if known[0] == start[0] and _same_state(known[1], start[1]):
                break
        else:
            measured = self._probe(0, series, model)
            values = measured.scalars
            values["probe/plasticity_loss"] = values["probe/plasticity_loss_raw"] = 0.0
            arrays = measured.arrays
            self._probed_starts.append((start, values, arrays))
        self._baseline[series] = (values["probe/final_loss"], values["probe/final_loss_scaled"])
        return Measurement(dict(values), [replace(array, series=series) for array in arrays])

    def measure(self, at: MeasureRequest) -> Measurement:
        return self._probe(at.step, at.series, at.model)

    def state_dict(self) -> dict[str, Any]:
        probe = self.probe
        return {
            "baseline": {series: list(values) for series, values in self._baseline.items()},
            # The probe's K tasks, drawn at the baseline: kept rather than drawn again, so a
            # resumed run probes exactly the tasks the first start drew.
            "task": None if probe._targets is None else [probe._inputs, probe._targets, probe._scales],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._baseline = {series: (float(raw), float(scaled)) for series, (raw, scaled) in state["baseline"].items()}
        if state["task"] is not None:
            self.probe._inputs, self.probe._targets, self.probe._scales = state["task"]

    def _probe(self, step: int, series: str, model: nn.Module) -> Measurement:
        result = self.probe.measure(model)
        x = np.arange(1, len(result.curve) + 1, dtype=np.float64)
        curve = Curve(step, series, "probe/curve", x, result.curve.astype(np.float64))
        targets = result.target_curves.astype(np.float64)
        by_target = Matrix(step, series, "probe/target_curves", targets, tuple(f"target {k + 1}" for k in range(len(targets))))
        out = {
            "probe/final_loss": result.final_loss,
            "probe/initial_loss": result.initial_loss,
            "probe/final_loss_scaled": result.final_loss_scaled,
            "probe/initial_loss_scaled": result.initial_loss_scaled,
        }
        if series in self._baseline:
            raw, scaled = self._baseline[series]
            out["probe/plasticity_loss"] = result.final_loss_scaled - scaled
            out["probe/plasticity_loss_raw"] = result.final_loss - raw
        return Measurement(out, [curve, by_target])


class HessianInstrument(Instrument):
    """``[instruments.hessian]``: top (and smallest) eigenvalues, trace, the ``hessian/density``
    histogram and its raw quadrature (``hessian/quadrature``: nodes and weights, to redo any smoothing)."""

    name = "hessian"
    takes_batch = True

    def measure(self, at: MeasureRequest) -> Measurement:
        cfg = self.config
        _require(at.loss_fn, at.batch, "hessian")
        chains = max(cfg.lanczos_iterations, cfg.top_k, cfg.smallest_k)
        # The kept first-order graph is freed on leaving the block.
        with HessianSpectrum(at.model, at.loss_fn, _spread(at.batch, cfg.n_examples)[0], seed=self.inputs.seed) as spectrum:
            # One set of lockstep Lanczos chains serves the density and the extreme eigenvalues.
            quadrature = spectrum.lanczos(chains, cfg.n_starts)
            trace = spectrum.trace(cfg.trace_samples) if cfg.trace_samples else None
        counts, edges = quadrature.density(cfg.sigma, cfg.n_bins)
        arrays: list[Event] = [Histogram(at.step, at.series, "hessian/density", counts, edges)]
        starts = range(len(quadrature.nodes))
        rows = tuple(f"nodes {s}" for s in starts) + tuple(f"weights {s}" for s in starts)
        raw = np.concatenate([quadrature.nodes, quadrature.weights])
        arrays.append(Matrix(at.step, at.series, "hessian/quadrature", raw, rows))
        arrays.extend(Log("info", f"{at.series}: {line}", at.step) for line in spectrum.products.measurements)
        top = quadrature.top(cfg.top_k)
        out = {"hessian/top_eigenvalue": float(top[0])}
        out.update({f"hessian/eigenvalue_{i}": float(v) for i, v in enumerate(top[1:], start=2)})
        if cfg.smallest_k:
            smallest = quadrature.bottom(cfg.smallest_k)
            out["hessian/smallest_eigenvalue"] = float(smallest[0])
            out.update({f"hessian/smallest_eigenvalue_{i}": float(v) for i, v in enumerate(smallest[1:], start=2)})
        if trace is not None:
            out["hessian/trace"] = trace
        return Measurement(out, arrays)

    def state_dict(self) -> dict[str, Any]:
        return {"product_choices": choices_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_choices(state.get("product_choices", []))


class GradientCovarianceInstrument(Instrument):
    """``[instruments.covariance]``: per-example gradient similarities and the ``gradients/covariance`` matrix."""

    name = "covariance"
    takes_batch = True

    def measure(self, at: MeasureRequest) -> Measurement:
        _require(at.loss_fn, at.batch, "covariance")
        batch, index = _spread(at.batch, self.config.n_examples)
        labels = at.labels
        if labels is not None and index is not None:
            labels = labels[index.numpy()] if isinstance(labels, np.ndarray) else labels[index.to(labels.device)]
        result = gradient_covariance(at.model, at.loss_fn, batch, labels, seed=self.inputs.seed)
        names = tuple(str(v) for v in result.labels) if result.labels is not None else None
        out = {}
        if result.mean_similarity is not None:
            out["gradients/mean_similarity"] = result.mean_similarity
        if result.within_class_similarity is not None:
            out["gradients/within_class_similarity"] = result.within_class_similarity
        if result.across_class_similarity is not None:
            out["gradients/across_class_similarity"] = result.across_class_similarity
        return Measurement(out, [Matrix(at.step, at.series, "gradients/covariance", result.matrix, names)])


def _spread(batch: tuple[torch.Tensor, Any], n: int) -> tuple[tuple[torch.Tensor, Any], torch.Tensor | None]:
    """``n`` examples of ``(inputs, targets)`` spread evenly over it, and their index (None: all).

    A batch ordered by class or task keeps every label in proportion; its first ``n`` examples
    would hold only the first labels (one class, on the Adam scenario's sorted images).
    """
    size = batch_size(batch[0])
    if n >= size:
        return batch, None
    index = torch.arange(n) * size // n  # strictly increasing, since n < size
    return take(batch, index.to(batch[0].device)), index


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    """Bit-for-bit the same parameters and buffers, under the same names."""
    return a.keys() == b.keys() and all(
        x.shape == y.shape and x.dtype == y.dtype and x.device == y.device and torch.equal(x, y)
        for x, y in ((a[k], b[k]) for k in a)
    )


def _require(loss_fn, batch, name: str) -> None:
    if loss_fn is None or batch is None:
        raise ValueError(f"the {name} instrument needs loss_fn and batch")
