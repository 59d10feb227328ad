"""A population is its agents: the stack's forward is each network's own, its parameters are
the networks' parameters (an edit through either is seen by the other), and its checkpoint is
plain tensors that restore it in place."""

import io

import pytest
import torch
from torch import nn

from plastilab.models.mlp import MLP
from plastilab.population import Population, StackedAdam, per_agent_norm

N = 4


class Scaled(nn.Module):
    """A network with a buffer (read in its forward), so the stack must carry buffers too."""

    def __init__(self) -> None:
        super().__init__()
        self.net = MLP(24, [32], 8, layer_norm=True)
        self.register_buffer("scale", torch.rand(8) + 0.5)

    def forward(self, x):
        return self.net(x) * self.scale


def agents(make=lambda: MLP(24, [32, 32], 8), seed=0):
    torch.manual_seed(seed)
    return [make() for _ in range(N)]


@pytest.mark.parametrize("make", [lambda: MLP(24, [32, 32], 8), Scaled])
def test_the_stacks_forward_is_each_networks_own_forward(make):
    models = agents(make)
    x = torch.randn(N, 16, 24)
    alone = [m(x[i]).detach() for i, m in enumerate(models)]
    population = Population(models)
    together = population(x)
    assert together.shape == (N, 16, together.shape[-1])
    vmapped = population.call_vmapped(population.params, x)
    for i in range(N):
        # vmap's batched matmul may sum in another order than a single one: float tolerance.
        torch.testing.assert_close(vmapped[i], alone[i], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(population.models[i](x[i]), alone[i], rtol=0, atol=0)  # the module still computes itself
        if population.direct is not None:  # the direct form runs each agent's own gemm: equal
            assert torch.equal(together[i], alone[i])
        else:
            assert torch.equal(together[i], vmapped[i])
    assert (population.direct is not None) == (make is not Scaled)


def test_edits_through_an_agents_module_and_through_the_stack_are_seen_by_both():
    population = Population(agents())
    weight = population.params["body.fc1.weight"]
    with torch.no_grad():
        population.models[2].body.fc1.weight[0, 0] = 7.0  # through the agent's module
        weight[1, 3, 2] = -5.0  # through the stack
        population.flat[3].zero_()  # through the flat rows
    assert weight[2, 0, 0] == 7.0
    assert population.models[1].body.fc1.weight[3, 2] == -5.0
    assert all(float(p.detach().abs().sum()) == 0 for p in population.models[3].parameters())
    assert float(population.flat[2, 0]) == 7.0  # fc1's weight is the first block of a row


def test_the_direct_forwards_gradients_are_each_networks_own():
    models = agents()
    x, target = torch.randn(N, 16, 24), torch.randn(N, 16, 8)
    alone = []
    for i, model in enumerate(models):
        torch.nn.functional.mse_loss(model(x[i]), target[i]).backward()
        alone.append([p.grad.clone() for p in model.parameters()])
    population = Population(models)
    assert population.direct is not None
    torch.nn.functional.mse_loss(population(x), target, reduction="none").mean((1, 2)).sum().backward()
    for i in range(N):
        for stacked, own in zip(population.parameters(), alone[i]):
            assert torch.equal(stacked.grad[i], own)


def test_a_step_of_the_stack_moves_each_agents_module_and_shares_its_gradient():
    population = Population(agents())
    before = [m.body.fc1.weight.detach().clone() for m in population.models]
    optimizer = StackedAdam(population.parameters(), lr=[1e-3, 1e-2, 1e-1, 0.0])
    population(torch.randn(N, 16, 24)).pow(2).sum().backward()
    population.share_gradients()
    optimizer.step()
    for i, model in enumerate(population.models):
        moved = not torch.equal(model.body.fc1.weight, before[i])
        assert moved == (i < 3)  # agent 3's learning rate is 0
        assert torch.equal(model.body.fc1.weight.grad, population.params["body.fc1.weight"].grad[i])


def test_other_stacked_parameters_run_through_the_same_template():
    population = Population(agents())
    x = torch.randn(N, 16, 24)
    target = population.clone_flat()  # a target network: a copy the stack's steps leave alone
    expected = population(x).detach()
    with torch.no_grad():
        population.flat.mul_(0.5)
    assert torch.equal(population.call(target, x), expected)
    assert torch.equal(population.call(population.unflatten(target), x), expected)
    assert not torch.allclose(population(x), expected)
    copied = population.copy_params()
    assert copied["head.weight"].data_ptr() != population.params["head.weight"].data_ptr()
    assert torch.equal(copied["head.weight"], population.params["head.weight"])


def test_a_checkpoint_loads_with_weights_only_and_restores_in_place():
    population = Population(agents(Scaled))
    buffer = io.BytesIO()
    torch.save(population.state_dict(), buffer)
    saved_flat = population.clone_flat()
    module_weight = population.models[1].net.head.weight
    with torch.no_grad():
        population.flat.normal_()
        population.buffers["scale"].zero_()
    buffer.seek(0)
    population.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(population.flat, saved_flat)
    assert population.models[1].net.head.weight is module_weight  # the same view, its values restored
    assert torch.equal(module_weight, saved_flat[1, population.offsets["net.head.weight"][0]:population.offsets["net.head.weight"][1]].view(8, 32))
    assert float(population.models[2].scale.abs().sum()) > 0


def test_per_agent_norms_are_each_agents_own_norm():
    population = Population(agents())
    norms = per_agent_norm(population.parameters())
    for i, model in enumerate(population.models):
        own = torch.cat([p.detach().flatten() for p in model.parameters()]).norm()
        torch.testing.assert_close(norms[i], own, rtol=1e-6, atol=0)


def test_networks_of_different_shapes_are_refused_in_one_line():
    with pytest.raises(ValueError) as error:
        Population([MLP(6, [8], 3), MLP(6, [9], 3)])
    assert "network 1 differs from network 0" in str(error.value) and "\n" not in str(error.value)
