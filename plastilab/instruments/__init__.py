"""Instruments: measurements of a network's plasticity, for scenarios and for any PyTorch model.

The public names below load on first use (PEP 562), so importing this package stays as cheap as
the torch-free ``schema`` that ``plastilab validate`` reads::

    from plastilab.instruments import hessian, measure_units, PlasticityProbe, dead_fraction

* on a model: ``PlasticityProbe`` / ``measure_plasticity``, ``hessian`` (a ``Spectrum``: ``top``,
  ``density``, ``trace`` from one Lanczos run), ``gradient_similarity``, ``measure_units``,
  ``record_activity`` (each activation's pre-activations and activations);
* on parameters: ``weight_norms``, ``distance_from_init`` (with ``snapshot_params``),
  ``gradient_norms``, ``update_ratios``;
* on plain tensors: ``dead_fraction``, ``dormant_fraction``, ``dormant_scores``,
  ``saturated_fraction``, ``effective_rank``, ``stable_rank``;
* ``ModelInputError``: the one-line error for inputs a model or loss cannot take.

The files, one idea each:

* ``base`` - what an instrument declares (``Instrument``: its table's schema, cost and memory)
  and measures; ``registry`` - every instrument there is, in order; ``builtin`` - the built-in
  instruments, one module each (``stats``, ``probe``, ``hessian``, ``covariance``, ``policy``);
* ``schema`` - the ``[instruments]`` table of a scenario, assembled from the declared tables;
* ``memory`` - the instruments' share of the memory estimate, from their declarations;
* ``suite`` - ``InstrumentSuite``: runs what is due at a step and returns events;
* ``api`` - the keyword-argument entry points above; ``spectrum`` - ``hessian`` and ``Spectrum``;
* ``plasticity_probe`` - ``ConfiguredProbe`` (the probe from a ``ProbeConfig``, which the public
  ``PlasticityProbe`` extends with keyword options and input checks) and ``ProbeResult``;
* ``activations`` - finding the units: hooks (in-place safe), ``watch``-ed layers; with
  ``activation_tracing`` (``torch.fx``) and ``activation_capture`` (what the ways share);
* ``unit_stats`` - dead, dormant, saturated units, pre-activations and ranks of the layers found;
* ``tensor_stats`` - the same statistics on plain tensors;
* ``rank`` - effective rank and srank of a feature matrix;
* ``weight_stats`` - weight norm, distance from init, gradient norm, update ratio;
* ``hessian_spectrum`` - ``HessianSpectrum``: HVPs, top eigenvalues, trace, SLQ density;
* ``gradient_covariance`` - per-example gradients and their cosine-similarity matrix;
* ``policy`` - a Q-network's policy entropies and churn;
* ``input_checks`` - ``ModelInputError`` and the checks that raise it;
* ``functional`` - the helpers they share (private randomness, flat vectors, batches).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module (in this package) that defines it
_EXPORTS = {
    "PlasticityProbe": "api",
    "measure_plasticity": "api",
    "ProbeResult": "plasticity_probe",
    "hessian": "spectrum",
    "Spectrum": "spectrum",
    "HessianSpectrum": "hessian_spectrum",
    "gradient_similarity": "api",
    "per_example_gradients": "gradient_covariance",
    "CovarianceResult": "gradient_covariance",
    "measure_units": "api",
    "record_activity": "activations",
    "LayerActivity": "activations",
    "unit_statistics": "unit_stats",
    "dead_fraction": "tensor_stats",
    "dormant_fraction": "tensor_stats",
    "dormant_scores": "tensor_stats",
    "saturated_fraction": "tensor_stats",
    "effective_rank": "rank",
    "stable_rank": "rank",
    "weight_norms": "weight_stats",
    "distance_from_init": "weight_stats",
    "gradient_norms": "weight_stats",
    "update_ratios": "weight_stats",
    "snapshot_params": "functional",
    "ModelInputError": "input_checks",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from plastilab.instruments.activations import LayerActivity, record_activity
    from plastilab.instruments.api import gradient_similarity, measure_plasticity, measure_units, PlasticityProbe
    from plastilab.instruments.functional import snapshot_params
    from plastilab.instruments.gradient_covariance import CovarianceResult, per_example_gradients
    from plastilab.instruments.hessian_spectrum import HessianSpectrum
    from plastilab.instruments.input_checks import ModelInputError
    from plastilab.instruments.plasticity_probe import ProbeResult
    from plastilab.instruments.rank import effective_rank, stable_rank
    from plastilab.instruments.spectrum import Spectrum, hessian
    from plastilab.instruments.tensor_stats import dead_fraction, dormant_fraction, dormant_scores, saturated_fraction
    from plastilab.instruments.unit_stats import unit_statistics
    from plastilab.instruments.weight_stats import distance_from_init, gradient_norms, update_ratios, weight_norms


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
