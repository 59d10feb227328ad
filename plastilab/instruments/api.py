"""The instruments for direct use on any PyTorch model: keyword arguments, no scenario, one-line errors.

The scenario files build the same objects from their pydantic tables (``ProbeConfig`` and its
siblings); here every option is a keyword argument with the same default. Each entry point runs
the model on two examples first and raises
:class:`~plastilab.instruments.input_checks.ModelInputError`, one line naming the input the model
expects, when it cannot take the inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from pydantic import ValidationError
from torch import nn

from plastilab.core.scenario_file import describe_validation_error
from plastilab.instruments import plasticity_probe as _probe
from plastilab.instruments.activations import Trace, Watch, record_activity
from plastilab.instruments.functional import LossFn
from plastilab.instruments.gradient_covariance import CovarianceResult, Labels, gradient_covariance
from plastilab.instruments.input_checks import check_batch, check_model_input
from plastilab.instruments.plasticity_probe import LossKind, ProbeResult
from plastilab.instruments.builtin.probe import ProbeConfig, ProbeFamily
from plastilab.instruments.tensor_stats import DORMANT_THRESHOLD
from plastilab.instruments.unit_stats import unit_statistics


class PlasticityProbe(_probe.ConfiguredProbe):
    """The plasticity probe (Lyle et al. 2023, §2), configured by keyword arguments.

    At each :meth:`measure` it copies the network, trains ``n_targets`` copies with a fresh Adam
    (``lr``) for ``probe_steps`` mini-batches of ``batch_size`` on fresh targets over
    ``n_examples`` of ``inputs``, and reports the mean final loss. Families: ``network_regression``
    (MSE onto a freshly initialised network of the same shape), ``high_frequency``
    (``sin(frequency * that) + offset``), ``random_labels`` (cross-entropy on random classes, one
    per output). The targets and mini-batches come from ``seed``: every measurement faces the same
    tasks, so :meth:`set_baseline` at θ_0 then :meth:`measure` later gives
    ``ProbeResult.plasticity_loss``. The measured model, its optimiser and the global random
    streams are never touched.

    A scenario's ``ProbeConfig`` can be passed as ``config`` instead of the options.
    """

    def __init__(
        self,
        inputs: torch.Tensor,
        config: ProbeConfig | None = None,
        seed: int = 0,
        *,
        family: ProbeFamily = "network_regression",
        n_targets: int = 8,
        probe_steps: int = 200,
        batch_size: int = 64,
        lr: float = 1e-3,
        n_examples: int = 512,
        frequency: float = 1e5,
        offset: float = 1.0,
        loss_kind: LossKind | None = None,
        target_model: Callable[[], nn.Module] | None = None,
    ) -> None:
        options = dict(
            family=family, n_targets=n_targets, probe_steps=probe_steps, batch_size=batch_size, lr=lr,
            n_examples=n_examples, frequency=frequency, offset=offset,
        )  # fmt: skip
        if config is None:
            config = probe_config(**options)
        elif options != probe_config().model_dump(include=set(options)):
            raise TypeError("PlasticityProbe: pass either config or keyword options, not both")
        super().__init__(inputs, config, seed, loss_kind=loss_kind, target_model=target_model)
        self._checked_inputs = inputs

    def set_baseline(self, model_at_init: nn.Module) -> ProbeResult:
        """Probe the network at θ_0; later results report ``plasticity_loss`` against it."""
        check_model_input(model_at_init, self._checked_inputs, seed=self.seed)
        return super().set_baseline(model_at_init)

    def measure(self, model: nn.Module) -> ProbeResult:
        """Probe ``model`` as it is now: a ``ProbeResult`` (``final_loss``, ``curve``, ``per_target``, ...)."""
        check_model_input(model, self._checked_inputs, seed=self.seed)
        return super().measure(model)


def probe_config(**options: Any) -> ProbeConfig:
    """A ``ProbeConfig`` from keyword options; a bad value is one line (``ValueError``)."""
    try:
        return ProbeConfig(every=0, **options)
    except ValidationError as error:
        raise ValueError(describe_validation_error(error, ProbeConfig, "PlasticityProbe")) from None


def measure_plasticity(
    model: nn.Module, inputs: torch.Tensor, *, baseline_model: nn.Module | None = None, seed: int = 0, **options: Any
) -> ProbeResult:
    """Probe ``model`` once on ``inputs`` (options as :class:`PlasticityProbe`'s).

    With ``baseline_model`` (the network at θ_0) it is probed first on the same tasks and the
    result's ``plasticity_loss`` is the difference. To probe several times against one baseline,
    keep a :class:`PlasticityProbe` instead: the baseline is then measured once.
    """
    probe = PlasticityProbe(inputs, seed=seed, **options)
    if baseline_model is not None:
        probe.set_baseline(baseline_model)
    return probe.measure(model)


def gradient_similarity(model: nn.Module, loss_fn: LossFn, batch: tuple[torch.Tensor, Any], labels: Labels = None, *, seed: int = 0) -> CovarianceResult:
    """The paper's gradient covariance (§3, Fig. 5): cosine similarities of per-example gradients,
    as :func:`~plastilab.instruments.gradient_covariance.gradient_covariance` measures them once
    the model is known to take ``batch``.

    ``loss_fn(outputs, targets)`` is the mean loss, applied to one example at a time; ``labels``
    (class or task of each example) order the rows and give the within/across-class means.
    """
    check_batch(model, loss_fn, batch, seed=seed)
    return gradient_covariance(model, loss_fn, batch, labels, seed=seed)


def measure_units(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    dormant_threshold: float = DORMANT_THRESHOLD,
    watch: Watch | None = None,
    activation: str = "relu",
    trace: Trace = "auto",
    seed: int = 0,
) -> dict[str, float]:
    """Dead, dormant and saturated units, pre-activation moments and feature ranks of ``model`` on ``inputs``.

    Tags as in a run's ``metrics.jsonl``: ``units/dead_fraction``, ``units/dormant_fraction``,
    ``units/saturated_fraction``, ``units/preact_mean``, ``units/preact_std``,
    ``features/effective_rank`` and ``features/stable_rank`` (of the last activation layer), each
    also per layer as ``<tag>/<layer>``. Activations are found as
    :func:`~plastilab.instruments.activations.record_activity` says: ``watch`` names the modules
    whose outputs feed an ``activation`` (for ``F.relu``-style models that cannot be traced);
    otherwise activation modules are hooked, or the model is traced with ``torch.fx``. Finding
    nothing is a warning and an empty dict.
    """
    check_model_input(model, inputs, seed=seed)
    layers = record_activity(model, inputs, seed=seed, watch=watch, activation=activation, trace=trace)
    return unit_statistics(layers, dormant_threshold)
