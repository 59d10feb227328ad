"""``[instruments.covariance]``: cosine similarities of per-example gradients (paper §3, Fig. 5).

Tags: ``gradients/{mean,within_class,across_class}_similarity`` and a ``Matrix``
``gradients/covariance``. The maths is ``plastilab.instruments.gradient_covariance``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from plastilab.core.events import Matrix
from plastilab.core.memory_estimate import FLOAT, Part
from plastilab.core.schema import Strict
from plastilab.instruments.base import Instrument, Order, Measurement, MeasureRequest


class CovarianceConfig(Strict):
    """Cosine similarity between per-example gradients, on a batch ordered by class or task."""

    every: int = Field(default=1000, ge=0)
    n_examples: int = Field(default=64, ge=2)


class CovarianceInstrument(Instrument):
    """On ``n_examples`` of the runner's batch, spread over it so that every label keeps its share."""

    name = "covariance"
    Config = CovarianceConfig
    order = Order(table=4, run=4, memory=3)
    takes_batch = True

    @classmethod
    def memory(cls, config: CovarianceConfig, parameters: int, n_in: int, width: int) -> list[Part]:
        # One gradient a example.
        return [Part("instruments.covariance.n_examples", "per-example gradients", config.n_examples * parameters * FLOAT)]

    def measure(self, at: MeasureRequest) -> Measurement:
        from plastilab.instruments.functional import spread  # deferred: pulls in torch
        from plastilab.instruments.gradient_covariance import gradient_covariance  # deferred: pulls in torch

        at.require_loss("covariance")
        batch, index = spread(at.batch, self.config.n_examples)
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
