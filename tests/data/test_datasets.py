"""Dataset loaders on small files the tests make, in the layouts torchvision reads."""

import pickle
import struct

import numpy as np
import pytest
import torchvision

from plastilab.core.errors import DatasetError
from plastilab.data.datasets import load_images


def write_idx(path, array: np.ndarray) -> None:
    """The IDX format of the MNIST files: magic (0, 0, uint8 code, ndim), big-endian dims, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_mnist_like(root, folder: str, n: int = 40):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    return images, labels


def test_shipped_mnist_5k_loads_offline():
    x, y = load_images("mnist-5k", 100, seed=0)
    assert x.shape == (100, 1, 28, 28) and x.dtype.is_floating_point
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) > 0.5
    assert y.dtype.is_signed and set(y.tolist()) <= set(range(10))
    assert len(set(y.tolist())) > 5  # shuffled: the file itself is grouped by class
    x2, y2 = load_images("mnist-5k", 100, seed=0)
    assert (x == x2).all() and (y == y2).all()


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_mnist_layouts(tmp_path, name, folder):
    images, labels = make_mnist_like(tmp_path, folder)
    x, y = load_images(name, 40, seed=1, data_dir=str(tmp_path))
    assert x.shape == (40, 1, 28, 28)
    # The same images, reordered by the seeded shuffle.
    order = np.random.default_rng(1).permutation(40)
    assert np.allclose(x[:, 0].numpy() * 255, images[order])
    assert (y.numpy() == labels[order]).all()


def test_cifar10_layout_is_channels_first(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    train_rows = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8), "labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch))
        if name != "test_batch":
            train_rows.append(batch["data"])
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    # Our files cannot match the real archive's checksums; the layout is what is under test.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)
    x, y = load_images("cifar10", 20, seed=0, data_dir=str(tmp_path))
    assert x.shape == (20, 3, 32, 32)
    assert set(y.tolist()) <= {0, 1, 2, 3}
    # CIFAR's files store each image as its red, then green, then blue 32x32 plane: channel c of
    # image i must be that plane, pixel for pixel (a reshape in place of a permute scrambles them).
    planes = np.concatenate(train_rows).reshape(20, 3, 32, 32)
    order = np.random.default_rng(0).permutation(20)
    assert np.allclose(x.numpy() * 255, planes[order])
    assert (y.numpy() == np.tile([0, 1, 2, 3], 5)[order]).all()


def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_images("fashion-mnist", 10, seed=0, data_dir=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert "data.dataset" in message and "data.download=true" in message and "mnist-5k" in message


def test_too_many_images_names_the_key():
    with pytest.raises(DatasetError, match="data.n_images: found 6000"):
        load_images("mnist-5k", 6000, seed=0)


def test_corrupt_dataset_files_give_one_line(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(b"not an idx file")
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(b"nor this")
    with pytest.raises(DatasetError) as info:
        load_images("mnist", 10, seed=0, data_dir=str(tmp_path), source="my.toml")
    message = str(info.value)
    assert message.startswith("my.toml: data.dataset: could not read mnist") and "\n" not in message
