"""Image datasets as tensors: the shipped ``mnist-5k`` offline, torchvision's when present.

Every loader returns ``(images, labels)``: float32 images in [0, 1] shaped (N, C, H, W) and
int64 labels, the first ``n_images`` of a seeded shuffle (the shipped file is grouped by class).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from plastilab.core.errors import DatasetError

TORCHVISION_DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def load_images(
    name: str,
    n_images: int,
    seed: int,
    data_dir: str = "~/.cache/plastilab/data",
    download: bool = False,
    source: str = "scenario",
):
    """``n_images`` images and labels of dataset ``name``, shuffled by ``seed``, as torch tensors.

    ``source`` (the scenario file) begins every error message, which then names the key.
    """
    import torch  # deferred: preflight reads the dataset before a run, and validate never needs torch

    if name == "mnist-5k":
        images, labels = _load_npz(_shipped_mnist_5k())
    elif name in TORCHVISION_DATASETS:
        images, labels = _load_torchvision(name, data_dir, download, source)
    else:
        allowed = ", ".join(["mnist-5k", *TORCHVISION_DATASETS])
        raise DatasetError(f"{source}: data.dataset: found {name!r}; allowed: {allowed}")
    if n_images > len(images):
        raise DatasetError(f"{source}: data.n_images: found {n_images}; {name} has only {len(images)} images, lower it")
    order = np.random.default_rng(seed).permutation(len(images))[:n_images]
    x = torch.from_numpy(images[order]).float().div_(255.0)
    if x.ndim == 3:
        x = x.unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    elif x.shape[-1] in (1, 3):
        x = x.permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) -> (N, C, H, W)
    y = torch.from_numpy(labels[order].astype(np.int64))
    return x, y


def _shipped_mnist_5k() -> Path:
    return Path(str(resources.files("plastilab.data") / "mnist_5k.npz"))


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as data:
            return np.asarray(data["images"]), np.asarray(data["labels"])
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable dataset file ({exc}); reinstall plastilab") from None


def _load_torchvision(name: str, data_dir: str, download: bool, source: str) -> tuple[np.ndarray, np.ndarray]:
    import torchvision  # deferred: only these datasets need it, and it is slow to import

    root = Path(data_dir).expanduser()
    cls = getattr(torchvision.datasets, TORCHVISION_DATASETS[name])
    try:
        dataset = cls(root=str(root), train=True, download=download)
        images, labels = np.asarray(dataset.data), np.asarray(dataset.targets)
    except Exception as exc:  # torchvision raises RuntimeError, OSError, URLError, AssertionError...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not download and ("not found" in reason.lower() or "download=true" in reason.lower()):
            raise DatasetError(
                f"{source}: data.dataset: {name} is not in {root} (data.data_dir); on a machine with a network "
                f"add --set data.download=true, or copy its files there, or use dataset = \"mnist-5k\" (shipped)"
            ) from None
        raise DatasetError(
            f"{source}: data.dataset: could not {'download' if download else 'read'} {name} in {root} ({reason[:160]}); "
            f"copy its files into data.data_dir by hand, or use dataset = \"mnist-5k\" (shipped)"
        ) from None
    return images, labels
