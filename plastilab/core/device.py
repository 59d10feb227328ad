"""Choose the torch device: ``auto`` takes CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from plastilab.core.errors import ScenarioError


def resolve_device(name: str, source: str = "scenario") -> str:
    import torch  # deferred: pulls in torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ScenarioError(f"{source}: device: found 'cuda' but no CUDA GPU is visible; use --device auto or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ScenarioError(f"{source}: device: found 'mps' but Apple's MPS is not available; use --device auto or cpu")
    return name
