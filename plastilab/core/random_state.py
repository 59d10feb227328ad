"""Random streams as plain values (tensors and JSON text) that a checkpoint can hold and
``torch.load(weights_only=True)`` can read back: the global streams every run shares (torch,
every CUDA device, numpy, Python's ``random``) and a ``numpy.random.Generator`` a kind owns
(torch generators give their state as a tensor already: ``get_state`` / ``set_state``)."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np


def global_rng_state() -> dict[str, Any]:
    """torch's (and every CUDA device's), numpy's and Python's global streams."""
    import torch  # deferred: pulls in torch

    legacy = np.random.get_state(legacy=False)
    numpy_state = {**legacy, "state": {"key": legacy["state"]["key"].tolist(), "pos": int(legacy["state"]["pos"])}}
    version, internal, gauss = random.getstate()
    found: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps(numpy_state),
        "python": json.dumps([version, list(internal), gauss]),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        found["cuda"] = torch.cuda.get_rng_state_all()
    return found


def set_global_rng_state(saved: dict[str, Any]) -> None:
    import torch  # deferred: pulls in torch

    torch.set_rng_state(saved["torch"])
    numpy_state = json.loads(saved["numpy"])
    numpy_state["state"]["key"] = np.asarray(numpy_state["state"]["key"], dtype=np.uint32)
    np.random.set_state(numpy_state)
    version, internal, gauss = json.loads(saved["python"])
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in saved and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])


def numpy_generator_state(generator: np.random.Generator) -> str:
    """A ``numpy.random.Generator``'s state as JSON (its 128-bit integers stay exact)."""
    return json.dumps(generator.bit_generator.state)


def set_numpy_generator_state(generator: np.random.Generator, saved: str) -> None:
    generator.bit_generator.state = json.loads(saved)
