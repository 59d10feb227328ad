"""ReDo's resets beyond the weights (biases, norm scales and shifts, batch-norm statistics, and the
optimiser's moments for each), and the layer copies the resetting interventions build.

The optimiser's memory is filled by hand (every moment 1), so a zero can only come from a reset;
the networks are built so that, on the probe, the units ReDo must recycle are known in advance."""

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from plastilab.interventions.redo import recycle_dormant_units
from plastilab.interventions.reinit import fresh_like, raw_weight

PROBE = torch.ones(5, 3)


class OneLayer(nn.Module):
    """body: fc1 -> [norm1] -> act1; head reads the four units (the unit map's MLP shape)."""

    def __init__(self, norm: nn.Module | None = None) -> None:
        super().__init__()
        self.body = nn.Sequential()
        self.body.add_module("fc1", nn.Linear(3, 4))
        if norm is not None:
            self.body.add_module("norm1", norm)
        self.body.add_module("act1", nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.body(x))


def adam_with_ones(model: nn.Module) -> torch.optim.Optimizer:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for p in model.parameters():
        optimizer.state[p] = {"step": torch.tensor(3.0), "exp_avg": torch.ones_like(p), "exp_avg_sq": torch.ones_like(p)}
    return optimizer


def moments(optimizer: torch.optim.Optimizer, p: torch.Tensor) -> list[list[float]]:
    return [optimizer.state[p][m].tolist() for m in ("exp_avg", "exp_avg_sq")]


UNIT_0 = [True, False, False, False]


# --- a plain layer: the bias ---------------------------------------------------------------------


def test_a_recycled_units_bias_moments_are_zeroed_and_no_others():
    torch.manual_seed(0)
    model = OneLayer()
    with torch.no_grad():  # on PROBE the units read 0 (silent), 3, 3, 3
        model.body.fc1.weight.copy_(torch.tensor([[-1.0] * 3] + [[1.0] * 3] * 3))
        model.body.fc1.bias.zero_()
    optimizer = adam_with_ones(model)
    assert recycle_dormant_units(model, optimizer, PROBE, threshold=0.1) == {"body.act1": 1}
    assert moments(optimizer, model.body.fc1.bias) == [[0.0, 1.0, 1.0, 1.0]] * 2
    assert moments(optimizer, model.body.fc1.weight) == [[[0.0] * 3] + [[1.0] * 3] * 3] * 2
    assert moments(optimizer, model.head.weight) == [[[0.0, 1.0, 1.0, 1.0]] * 2] * 2
    assert optimizer.state[model.head.bias]["exp_avg"].tolist() == [1.0, 1.0]


def test_recycling_without_an_optimizer_still_resets_the_weights():
    torch.manual_seed(0)
    model = OneLayer()
    with torch.no_grad():
        model.body.fc1.weight.copy_(torch.tensor([[-1.0] * 3] + [[1.0] * 3] * 3))
        model.body.fc1.bias.zero_()
    assert recycle_dormant_units(model, None, PROBE, threshold=0.1) == {"body.act1": 1}
    assert model.head.weight[:, 0].tolist() == [0.0, 0.0]
    assert (model.head.weight[:, 1:] != 0).all()


# --- a batch norm: scale, shift, running statistics ----------------------------------------------


def batch_norm_model() -> OneLayer:
    """In eval mode, fc1 outputs 0 everywhere and the norm makes unit 0 negative (silent):
    0.5 · (0 − 5)/√3 + 0.25 < 0, while units 1-3 read 0.5 · 5/√3 + 0.25 > 0."""
    torch.manual_seed(0)
    model = OneLayer(nn.BatchNorm1d(4)).eval()
    bn = model.body.norm1
    with torch.no_grad():
        model.body.fc1.weight.zero_()
        model.body.fc1.bias.zero_()
        bn.weight.fill_(0.5)
        bn.bias.fill_(0.25)
        bn.running_mean.copy_(torch.tensor([5.0, -5.0, -5.0, -5.0]))
        bn.running_var.fill_(3.0)
    return model


def test_a_recycled_unit_gets_a_fresh_batch_norm_and_the_others_keep_theirs():
    model = batch_norm_model()
    optimizer = adam_with_ones(model)
    assert recycle_dormant_units(model, optimizer, PROBE, threshold=0.1) == {"body.act1": 1}
    bn = model.body.norm1
    assert bn.weight.tolist() == [1.0, 0.5, 0.5, 0.5]
    assert bn.bias.tolist() == [0.0, 0.25, 0.25, 0.25]
    assert bn.running_mean.tolist() == [0.0, -5.0, -5.0, -5.0]
    assert bn.running_var.tolist() == [1.0, 3.0, 3.0, 3.0]
    for p in (bn.weight, bn.bias, model.body.fc1.bias):
        assert moments(optimizer, p) == [[0.0, 1.0, 1.0, 1.0]] * 2


def test_a_layer_norm_without_its_own_scale_is_left_as_it_is():
    # fc1's outputs -3, 1, 1, 1 normalise to -1.73, 0.58, 0.58, 0.58: unit 0 is silent.
    torch.manual_seed(0)
    model = OneLayer(nn.LayerNorm(4, elementwise_affine=False))
    with torch.no_grad():
        model.body.fc1.weight.zero_()
        model.body.fc1.bias.copy_(torch.tensor([-3.0, 1.0, 1.0, 1.0]))
    optimizer = adam_with_ones(model)
    assert recycle_dormant_units(model, optimizer, PROBE, threshold=0.1) == {"body.act1": 1}
    assert model.body.norm1.weight is None
    assert moments(optimizer, model.body.fc1.bias) == [[0.0, 1.0, 1.0, 1.0]] * 2


# --- the layers the resets copy ------------------------------------------------------------------


def test_raw_weight_is_the_trained_tensor_under_spectral_norm():
    plain = nn.Linear(3, 2)
    assert raw_weight(plain) is plain.weight
    normed = spectral_norm(nn.Linear(3, 2))
    assert raw_weight(normed) is normed.parametrizations.weight.original


class Doubled(nn.Module):
    def forward(self, x):
        return 2 * x


def test_raw_weight_of_a_layer_whose_bias_alone_is_parametrised_is_its_weight():
    layer = nn.Linear(3, 2)
    parametrize.register_parametrization(layer, "bias", Doubled())
    assert raw_weight(layer) is layer.weight


def test_a_fresh_linear_keeps_dtype_and_a_missing_bias():
    fresh = fresh_like(nn.Linear(3, 2, bias=False, dtype=torch.float64))
    assert (fresh.in_features, fresh.out_features) == (3, 2)
    assert fresh.weight.dtype == torch.float64
    assert fresh.bias is None


def test_a_fresh_conv_keeps_every_setting_of_the_layer():
    layer = nn.Conv2d(4, 6, kernel_size=3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                      padding_mode="reflect", dtype=torch.float64)
    fresh = fresh_like(layer)
    assert (fresh.in_channels, fresh.out_channels, fresh.kernel_size) == (4, 6, (3, 3))
    assert (fresh.stride, fresh.padding, fresh.dilation, fresh.groups) == ((2, 2), (1, 1), (2, 2), 2)
    assert fresh.padding_mode == "reflect"
    assert fresh.weight.dtype == torch.float64 and fresh.bias is None
    assert fresh.weight.shape == (6, 2, 3, 3)
