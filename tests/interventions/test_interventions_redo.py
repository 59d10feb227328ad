"""ReDo recycles dormant units, and touches nothing but them and their optimiser state."""

import pytest
import torch

from plastilab.interventions.redo import dormancy_scores, recycle_dormant_units
from plastilab.models.factory import build_model
from plastilab.models.units import unit_layers


def adam_with_state(model, x):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(x).pow(2).mean().backward()
    optimizer.step()
    return optimizer


def test_score_is_mean_activity_over_layer_mean():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 2, 2), 2, hidden=(3,))
    with torch.no_grad():
        model.body.fc1.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, -1.0, 0]]))
        model.body.fc1.bias.fill_(0.1)
    x = torch.rand(5, 1, 2, 2)
    acts = model.body.act1(model.body.fc1(x.flatten(1))).abs().mean(0)
    score = dormancy_scores(model, x)["body.act1"]
    assert torch.allclose(score, acts / acts.mean(), atol=1e-6)


def test_recycles_only_dormant_units_and_their_optimizer_state():
    torch.manual_seed(0)
    model = build_model("mlp", (1, 4, 4), 3, hidden=(8, 8))
    x = torch.rand(64, 1, 4, 4)
    with torch.no_grad():  # every unit alive on positive inputs, except 1 and 5 of the first layer
        for fc in (model.body.fc1, model.body.fc2):
            fc.weight.abs_()
            fc.bias.fill_(0.1)
        model.body.fc1.weight[[1, 5]] = -1.0
        model.body.fc1.bias[[1, 5]] = -1.0
    optimizer = adam_with_state(model, x)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    state_before = {n: {k: v.clone() for k, v in optimizer.state[p].items()} for n, p in model.named_parameters()}

    recycled = recycle_dormant_units(model, optimizer, x, threshold=0.0)
    assert recycled["body.act1"] == 2
    dead = torch.zeros(8, dtype=torch.bool)
    dead[[1, 5]] = True

    params = dict(model.named_parameters())
    # incoming rows of dead units: fresh; of live units: untouched
    assert not torch.equal(params["body.fc1.weight"][dead], before["body.fc1.weight"][dead])
    assert torch.equal(params["body.fc1.weight"][~dead], before["body.fc1.weight"][~dead])
    assert torch.equal(params["body.fc1.bias"][~dead], before["body.fc1.bias"][~dead])
    # outgoing columns of dead units: zero; the rest untouched
    assert (params["body.fc2.weight"][:, dead] == 0).all()
    assert torch.equal(params["body.fc2.weight"][:, ~dead], before["body.fc2.weight"][:, ~dead])
    for name in ("body.fc2.bias", "head.weight", "head.bias"):
        assert torch.equal(params[name], before[name]), name
    # Adam's moments: zeroed exactly where weights were recycled, kept everywhere else
    for moment in ("exp_avg", "exp_avg_sq"):
        fc1, fc2 = optimizer.state[params["body.fc1.weight"]][moment], optimizer.state[params["body.fc2.weight"]][moment]
        assert (fc1[dead] == 0).all() and torch.equal(fc1[~dead], state_before["body.fc1.weight"][moment][~dead])
        assert (fc2[:, dead] == 0).all() and torch.equal(fc2[:, ~dead], state_before["body.fc2.weight"][moment][:, ~dead])
        head = optimizer.state[params["head.weight"]][moment]
        assert torch.equal(head, state_before["head.weight"][moment])
    # the recycled units are alive again
    assert (dormancy_scores(model, x)["body.act1"][dead] > 0).all()


@pytest.mark.parametrize("arch", ["cnn", "resnet18", "vit"])
def test_recycling_works_on_every_architecture(arch):
    torch.manual_seed(0)
    model = build_model(arch, (1, 8, 8), 3, **({"patch_size": 4, "depth": 1} if arch == "vit" else {}))
    x = torch.rand(4, 1, 8, 8)
    if arch == "resnet18":  # batch norm keeps every channel busy; silence four by hand
        with torch.no_grad():
            model.backbone.layer1[0].bn1.bias[:4] = -10.0
    optimizer = adam_with_state(model, x)
    layers = unit_layers(model)
    scores = dormancy_scores(model, x, layers)
    incoming = {layer.name: layer.incoming.weight.detach().clone() for layer in layers}
    recycled = recycle_dormant_units(model, optimizer, x, threshold=0.5, layers=layers)
    assert sum(recycled.values()) > 0
    fed_by = {layer.outgoing: scores[layer.name] <= 0.5 for layer in layers}
    for layer in layers:
        dormant = scores[layer.name] <= 0.5
        out = layer.outgoing.weight.view(layer.outgoing.weight.shape[0], len(dormant), -1)
        assert (out[:, dormant] == 0).all(), layer.name
        # live units keep their incoming weights, but for those from recycled units below
        expected = incoming[layer.name].clone()
        if layer.incoming in fed_by:
            below = fed_by[layer.incoming]
            expected.view(expected.shape[0], len(below), -1)[:, below] = 0
        assert torch.equal(layer.incoming.weight[~dormant], expected[~dormant]), layer.name
    if arch == "resnet18":  # the silenced channels' own batch-norm shift starts afresh
        assert (model.backbone.layer1[0].bn1.bias[:4] == 0).all()
