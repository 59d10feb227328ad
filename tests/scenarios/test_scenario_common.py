"""The pieces every runner shares (scenarios/common.py): one dead-unit definition that agrees with
the unit-statistics instrument, a windowed mean, the merge rule, the non-finite-loss line."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from plastilab.core.context import RunContext
from plastilab.core.errors import NonFiniteLoss
from plastilab.core.events import Curve, Scalars
from plastilab.instruments.unit_stats import record_activity, unit_statistics
from plastilab.models.factory import build_model
from plastilab.models.mlp import MLP
from plastilab.scenarios.common import (
    WindowedMean,
    check_finite_loss,
    counting_dead_units,
    forward_counting_dead_units,
    make_optimizer,
    merge_instrument_output,
)


def kill_some_units(model: nn.Module, fraction: float, seed: int) -> None:
    """Make a share of each hidden layer's units dead: a large negative bias."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)) and module is not getattr(model, "head", None):
                dead = torch.rand(module.bias.shape, generator=generator) < fraction
                module.bias[dead] = -1e3


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dead_units_agree_with_the_unit_statistics_instrument(arch, seed):
    torch.manual_seed(seed)
    options = {"hidden": [32, 32]} if arch == "mlp" else {"channels": [4, 8], "hidden": 16}
    model = build_model(arch, (1, 12, 12), 10, **options)
    kill_some_units(model, 0.3, seed)
    x = torch.randn(64, 1, 12, 12)
    ours = forward_counting_dead_units(model, x)[1]
    instrument = unit_statistics(record_activity(model, x))["units/dead_fraction"]
    assert ours == pytest.approx(instrument) and 0.1 < ours < 0.6


def test_a_model_whose_units_cannot_die_reports_none():
    model = MLP(8, [16], 3, activation="tanh")
    output, dead = forward_counting_dead_units(model, torch.randn(5, 8))
    assert output.shape == (5, 3) and dead is None


def test_counting_rides_on_a_forward_pass_the_caller_makes():
    model = MLP(8, [16, 16], 3)
    kill_some_units(model, 0.5, 0)
    x = torch.randn(20, 8)
    with counting_dead_units(model) as count:
        model(x)
    assert count.total == 32 and count.fraction == forward_counting_dead_units(model, x)[1]
    assert not model.body.act1._forward_hooks  # the hooks are gone after the block


def test_windowed_mean_restarts_after_each_take():
    window = WindowedMean()
    assert window.take() is None
    for value in (1.0, torch.tensor(2.0), torch.tensor(6.0, requires_grad=True)):
        window.add(value)
    assert window.take() == pytest.approx(3.0) and window.count == 0
    window.add(5.0)
    assert window.take() == pytest.approx(5.0)


def test_the_runner_keeps_its_own_tags_and_the_instruments_add_the_rest():
    own = {"units/dead_fraction": 0.5, "train/loss": 1.0}
    curve = Curve(10, "a", "probe/curve", torch.arange(3).numpy(), torch.ones(3).numpy())
    measured = [Scalars(10, "a", {"units/dead_fraction": 0.25, "features/effective_rank": 7.0}, 0.0), curve]
    rest = merge_instrument_output(own, measured)
    assert own == {"units/dead_fraction": 0.5, "train/loss": 1.0, "features/effective_rank": 7.0}
    assert rest == [curve]


def test_a_non_finite_loss_names_the_file_the_key_and_the_series():
    ctx = RunContext(device="cpu", seed=0, source="scenarios/x.toml")
    check_finite_loss(0.5, series="sgd", step=3, key="training.lr", ctx=ctx)
    with pytest.raises(NonFiniteLoss) as error:
        check_finite_loss(float("nan"), series="sgd", step=3, key="variants.sgd.lr", ctx=ctx, also=" (or training.lr)")
    assert str(error.value) == (
        "scenarios/x.toml: variants.sgd.lr: the loss of series 'sgd' became nan at step 3; "
        "lower variants.sgd.lr (or training.lr) and run again"
    )


def test_the_optimiser_factory():
    params = [nn.Parameter(torch.zeros(2))]
    adam = make_optimizer("adam", params, 0.1, betas=(0.9, 0.9), eps=1e-3)
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["betas"] == (0.9, 0.9) and adam.defaults["eps"] == 1e-3
    sgd = make_optimizer("sgd", params, 0.1, momentum=0.5)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.5
    with pytest.raises(ValueError):
        make_optimizer("lion", params, 0.1)
