"""Every architecture builds and trains one step on grey 28×28 and colour 32×32 images."""

import pytest
import torch

from plastilab.models.factory import ARCHITECTURES, build_model
from plastilab.models.units import unit_layers


@pytest.fixture(autouse=True)
def one_thread():
    # Two threads on a shared two-core machine spin against each other; one is much faster.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_builds_and_trains_one_step(arch, shape):
    torch.manual_seed(0)
    model = build_model(arch, shape, n_out=10)
    x, y = torch.rand(2, *shape), torch.tensor([3, 7])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    logits = model(x)
    assert logits.shape == (2, 10)
    assert model.features(x).shape[0] == 2 and isinstance(model.head, torch.nn.Linear)
    torch.nn.functional.cross_entropy(logits, y).backward()
    optimizer.step()
    changed = [not torch.equal(b, p) for b, p in zip(before, model.parameters())]
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert sum(changed) >= len(changed) // 2  # the step reached the network, not only the head


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_layer_norm_option_adds_layer_norms(arch):
    def norms(model):
        return [m for m in model.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm))]

    plain = build_model(arch, (1, 28, 28), 10, layer_norm=False)
    normed = build_model(arch, (1, 28, 28), 10, layer_norm=True)
    assert not norms(plain) and norms(normed)
    assert normed(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_resnet_stem_fits_small_images():
    model = build_model("resnet18", (1, 28, 28), 10)
    assert model.backbone.conv1.in_channels == 1 and model.backbone.conv1.kernel_size == (3, 3)
    assert model.backbone.conv1.stride == (1, 1) and isinstance(model.backbone.maxpool, torch.nn.Identity)


def test_unknown_architecture_or_option_is_an_error():
    with pytest.raises(ValueError, match="allowed: mlp, cnn, resnet18, vit"):
        build_model("lstm", (1, 28, 28), 10)
    with pytest.raises(ValueError, match="unknown option 'widht'"):
        build_model("cnn", (1, 28, 28), 10, widht=3)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_unit_map_pairs_each_unit_with_its_layers(arch):
    model = build_model(arch, (1, 28, 28), 10)
    layers = unit_layers(model)
    assert layers
    for layer in layers:
        units = layer.incoming.weight.shape[0]
        outgoing_in = layer.outgoing.weight.shape[1]
        assert outgoing_in % units == 0  # each unit owns a whole number of outgoing columns
