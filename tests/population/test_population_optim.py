"""A stacked optimiser's step is each agent's own ``torch.optim`` step.

Four agents with different hyperparameters take K = 20 steps on random gradients as one stack;
each agent is then stepped alone by ``torch.optim`` on the same gradients. Tolerance: where the
stack calls the kernels ``torch.optim``'s single-tensor code calls, with the same operands in the
same order (Adam, centred RMSProp, SGD with one learning rate), each element's arithmetic is the
same sequence of roundings, so the numbers must be equal bit for bit. Where ``torch.optim`` fuses
``p + (-lr) * u`` into one rounding and a per-agent ``lr`` cannot enter that kernel (SGD, RMSProp
with momentum), the stack rounds twice: at most one ulp a step apart, so K ulps of the largest
parameter after K steps.
"""

import io

import pytest
import torch

from plastilab.population import StackedAdam, StackedRMSprop, StackedSGD, make_stacked_optimizer

N, K = 4, 20
# Odd sizes: rows that do not fill the CPU's vectors, so the kernels' scalar tails run too.
SHAPES = [(37, 19), (19,), (129, 65)]
LR = [1e-3, 3e-3, 1e-2, 3e-2]
EPS = [1e-8, 1e-3, 1e-6, 1e-4]


def stepped_stack(kind, hyper, params, grads):
    stack = [t.clone().requires_grad_() for t in params]
    kind, fused = kind.removesuffix("+fused"), kind.endswith("+fused")
    optimizer = make_stacked_optimizer(kind, stack, hyper, fused=fused)
    for step_grads in grads:
        for p, g in zip(stack, step_grads):
            p.grad = g.clone()
        optimizer.step()
    return stack, optimizer


def stepped_alone(torch_optimizer, params, grads, i):
    alone = [t[i].clone().requires_grad_() for t in params]
    optimizer = torch_optimizer(alone)
    for step_grads in grads:
        for p, g in zip(alone, step_grads):
            p.grad = g[i].clone()
        optimizer.step()
    return [p.detach() for p in alone]


def problem(seed=0):
    generator = torch.Generator().manual_seed(seed)
    params = [torch.randn(N, *s, generator=generator) for s in SHAPES]
    grads = [[torch.randn(N, *s, generator=generator) for s in SHAPES] for _ in range(K)]
    return params, grads


def ulps_apart(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest difference, in units of the float32 spacing at the largest magnitude of ``a``."""
    return float((a - b).abs().max() / (torch.finfo(a.dtype).eps * a.abs().max()))


CASES = {
    "adam": (
        "adam",
        {"lr": LR, "beta1": [0.9, 0.8, 0.95, 0.5], "beta2": [0.999, 0.9, 0.99, 0.95], "eps": EPS},
        lambda i, h: lambda p: torch.optim.Adam(p, lr=h["lr"][i], betas=(h["beta1"][i], h["beta2"][i]), eps=h["eps"][i]),
        0,
    ),
    "adam-weight-decay": (
        "adam",
        {"lr": LR, "beta1": [0.9, 0.8, 0.95, 0.5], "eps": EPS, "weight_decay": [0.0, 1e-2, 1e-3, 0.1]},
        lambda i, h: lambda p: torch.optim.Adam(p, lr=h["lr"][i], betas=(h["beta1"][i], 0.999), eps=h["eps"][i], weight_decay=h["weight_decay"][i]),
        0,
    ),
    # torch's fused kernel: one call on the whole stacks where all agents agree, a call per group of
    # agents that agree otherwise; each agent's step is torch.optim.Adam(fused=True)'s.
    "adam-fused": (
        "adam+fused",
        {"lr": 1e-3, "eps": 1e-6},
        lambda i, h: lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-6, fused=True),
        0,
    ),
    "adam-fused-per-agent": (
        "adam+fused",
        {"lr": [1e-3, 3e-3, 1e-3, 3e-3], "beta2": [0.999, 0.999, 0.9, 0.999], "eps": EPS, "weight_decay": [0.0, 0.0, 0.1, 0.0]},
        lambda i, h: lambda p: torch.optim.Adam(p, lr=h["lr"][i], betas=(0.9, h["beta2"][i]), eps=h["eps"][i], weight_decay=h["weight_decay"][i], fused=True),
        0,
    ),
    "rmsprop-centred": (
        "rmsprop",
        {"lr": LR, "alpha": [0.95, 0.9, 0.99, 0.5], "eps": EPS},
        lambda i, h: lambda p: torch.optim.RMSprop(p, lr=h["lr"][i], alpha=h["alpha"][i], eps=h["eps"][i], centered=True),
        0,
    ),
    "rmsprop-momentum": (
        "rmsprop",
        {"lr": LR, "alpha": [0.95, 0.9, 0.99, 0.5], "eps": EPS, "momentum": 0.9},
        lambda i, h: lambda p: torch.optim.RMSprop(p, lr=h["lr"][i], alpha=h["alpha"][i], eps=h["eps"][i], centered=True, momentum=0.9),
        K,
    ),
    "sgd-one-lr": (
        "sgd",
        {"lr": 0.05, "momentum": [0.0, 0.9, 0.5, 0.99]},
        lambda i, h: lambda p: torch.optim.SGD(p, lr=0.05, momentum=h["momentum"][i]),
        0,
    ),
    "sgd-per-agent-lr": (
        "sgd",
        {"lr": LR, "momentum": [0.0, 0.9, 0.5, 0.99], "weight_decay": [0.0, 0.0, 1e-2, 1e-3]},
        lambda i, h: lambda p: torch.optim.SGD(p, lr=h["lr"][i], momentum=h["momentum"][i], weight_decay=h["weight_decay"][i]),
        K,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_stack_steps_each_agent_as_torch_optim_steps_it_alone(case):
    kind, hyper, torch_optimizer, max_ulps = CASES[case]
    params, grads = problem()
    stack, _ = stepped_stack(kind, hyper, params, grads)
    stack = [p.detach() for p in stack]
    for i in range(N):
        alone = stepped_alone(torch_optimizer(i, hyper), params, grads, i)
        for a, s, start in zip(alone, stack, params):
            assert not torch.equal(a, start[i])  # the steps moved the parameters
            if max_ulps == 0:
                assert torch.equal(a, s[i]), (case, i, ulps_apart(a, s[i]))
            else:
                assert ulps_apart(a, s[i]) <= max_ulps, (case, i)


@pytest.mark.parametrize("fused", [False, True])
def test_one_agents_state_moves_to_another_stack_and_a_reset_agent_starts_afresh(fused):
    params, grads = problem(1)
    hyper = {"lr": LR, "beta2": [0.999, 0.9, 0.99, 0.95], "eps": EPS}
    stack, optimizer = stepped_stack("adam+fused" if fused else "adam", hyper, params, grads[:10])
    # Agent 2's parameters and optimiser state, moved into agent 0 of a fresh stack, continue
    # exactly as agent 2 continues in its own stack.
    other = [t.detach().clone().requires_grad_() for t in stack]
    with torch.no_grad():
        for o, s in zip(other, stack):
            o[0].copy_(s[2])
    moved = StackedAdam(other, fused=fused)
    moved.load_agent_state(0, optimizer.agent_state(2))
    # Agent 1 is reset after 10 steps: from there on, a fresh torch.optim.Adam.
    fresh = [t[1].detach().clone().requires_grad_() for t in stack]
    alone = torch.optim.Adam(fresh, lr=LR[1], betas=(0.9, 0.9), eps=EPS[1], fused=fused)
    optimizer.reset_agent(1)
    for step_grads in grads[10:]:
        for o, s, f, g in zip(other, stack, fresh, step_grads):
            o.grad, s.grad, f.grad = g[[2, 1, 2, 3]].clone(), g.clone(), g[1].clone()
        moved.step()
        optimizer.step()
        alone.step()
    for o, s, f in zip(other, stack, fresh):
        assert torch.equal(o[0], s[2])
        assert torch.equal(f, s[1])


@pytest.mark.parametrize("kind", ["adam", "rmsprop", "sgd"])
def test_a_checkpoint_loads_with_weights_only_and_continues_identically(kind):
    params, grads = problem(2)
    hyper = {"lr": LR, "momentum": 0.9} if kind != "adam" else {"lr": LR, "eps": EPS}
    stack, optimizer = stepped_stack(kind, hyper, params, grads[:5])
    buffer = io.BytesIO()
    torch.save({"params": [p.detach().clone() for p in stack], "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    restored = [p.clone().requires_grad_() for p in saved["params"]]
    again = make_stacked_optimizer(kind, restored, {})  # hyperparameters come from the checkpoint
    again.load_state_dict(saved["optimizer"])
    for step_grads in grads[5:]:
        for a, b, g in zip(stack, restored, step_grads):
            a.grad, b.grad = g.clone(), g.clone()
        optimizer.step()
        again.step()
    for a, b in zip(stack, restored):
        assert torch.equal(a, b)


def test_a_step_dispatches_as_many_operators_for_32_agents_as_for_2():
    def operators(n_agents: int) -> int:
        params = [torch.zeros(n_agents, *s, requires_grad=True) for s in SHAPES]
        optimizer = StackedAdam(params, lr=torch.linspace(1e-4, 1e-3, n_agents))
        for p in params:
            p.grad = torch.ones_like(p)
        optimizer.step()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            optimizer.step()
        return sum(1 for e in prof.events() if e.name.startswith("aten::"))

    assert operators(32) == operators(2) > 0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: StackedAdam(p, lr=[1e-3, 1e-3]), "lr: found shape (2,); allowed: a number or 4 numbers"),
        (lambda p: StackedAdam(p, beta2=[0.9, 0.9, 1.0, 0.9]), "beta2: every agent's value must be in [0, 1)"),
        (lambda p: StackedRMSprop(p, momentum=[0.0, 0.9, 0.9, 0.9]), "momentum: found different values per agent"),
        (lambda p: StackedSGD(p, nesterov=True), "sgd: unknown hyperparameter 'nesterov'; allowed: lr, momentum, weight_decay"),
        (lambda p: make_stacked_optimizer("adagrad", p, {}), "optimizer: found 'adagrad'; allowed: adam, rmsprop, sgd"),
        (lambda p: make_stacked_optimizer("sgd", p, {}, fused=True), "fused: only adam has a fused step"),
    ],
)
def test_bad_hyperparameters_are_one_line_naming_the_key(build, message):
    params = [torch.zeros(N, 3, requires_grad=True)]
    with pytest.raises(ValueError) as error:
        build(params)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
