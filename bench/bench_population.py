"""Populations (issue #25): N agents trained as one stack against the same agents one at a time.

The agents are the falsification study's (scenarios/falsification-quick.toml's base: block-MDP
DQN, 784-256-256-4 MLP, batch 32, Adam, Huber loss). For each N (default 8, 32, 128):

  flop_fraction    the FLOP rate the population's TD train step achieves (online and target
                   forward, backward, stacked Adam) over the rate of bare batched matmuls of the
                   same shapes, timed in the same run, interleaved (goal >= 0.4 at N = 32);
                   flop_fraction_fused_adam: the same with StackedAdam(fused=True)
  dispatch_ratio   operators dispatched per agent-step by the population (every aten operator the
                   torch profiler records in one step, divided by N) over those of one agent's
                   step with torch.optim.Adam and nn.Linear (goal <= 1.2/N at N = 32)
  speedup_vs_pool  agent-steps per CPU-second of `plastilab run FILE --seeds N --set
                   training.population=on` over those of the same N agents as a study on the local
                   pool (one agent per trial, 2 worker processes), both through the CLI; CPU
                   seconds of the whole process tree (start-up, data, run folders included), so
                   other jobs on a shared machine do not tilt the ratio (goal >= 2 at N = 32).
                   The wall-time ratio is printed beside it, with the load average.

and the replay memory per agent of the block MDP before (``ReplayBuffer``: pixels) and after
(the population's ``IndexReplay``: image indices), goal: after <= before / 50.

    .venv/bin/python bench/bench_population.py [--agents 8 32 128] [--json FILE] [--no-pool]
    .venv/bin/python bench/bench_population.py --quick       # tiny sizes: checks the script

On the CPU the train-step times are this process's CPU time (one torch thread); on a GPU, wall
time with the device synchronised. ``--json FILE`` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from plastilab.agents.dqn import make_dqn_optimizer, td_loss
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.q_network import build_q_network
from plastilab.population import Population, StackedAdam

sys.path.insert(0, str(Path(__file__).resolve().parent))
from population_pool import pool_figures  # noqa: E402  (the CLI half, its own file)

OBSERVATION, ACTIONS = (1, 28, 28), 4


def agent_config(hidden: list[int], batch: int) -> DQNConfig:
    return DQNConfig(hidden=hidden, batch_size=batch, optimizer="adam", learning_rate=1e-3, loss="huber", gamma=0.9)


def batch_of(n: int | None, batch: int, device: str) -> tuple[torch.Tensor, ...]:
    """A replay batch (observations, actions, rewards, next observations, dones), ``[n, B, ...]``
    for a population, ``[B, ...]`` for one agent."""
    lead = (batch,) if n is None else (n, batch)
    g = torch.Generator().manual_seed(0)
    tensors = (
        torch.rand(*lead, *OBSERVATION, generator=g),
        torch.randint(0, ACTIONS, lead, generator=g),
        torch.randint(0, 2, lead, generator=g).float(),
        torch.rand(*lead, *OBSERVATION, generator=g),
        torch.zeros(lead),
    )
    return tuple(t.to(device) for t in tensors)


def one_agent_step(config: DQNConfig, device: str):
    """One agent's TD step as ``run_dqn`` takes it (its own target network, torch.optim.Adam)."""
    net = build_q_network("mlp", OBSERVATION, ACTIONS, hidden=config.hidden).to(device)
    target, optimizer = copy.deepcopy(net), make_dqn_optimizer(config, net.parameters())
    obs, actions, rewards, next_obs, dones = batch_of(None, config.batch_size, device)

    def step() -> None:
        with torch.no_grad():
            td_target = rewards + config.gamma * (1.0 - dones) * target(next_obs).max(dim=1).values
        q_taken = net(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = td_loss(q_taken, td_target, config.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def population_step(config: DQNConfig, n: int, device: str, fused: bool = False):
    """The same TD step for N agents: one population, a target stack, the stacked Adam."""
    torch.manual_seed(0)
    online = Population([build_q_network("mlp", OBSERVATION, ACTIONS, hidden=config.hidden).to(device) for _ in range(n)])
    target = online.copy_params()
    optimizer = StackedAdam(online.parameters(), lr=config.learning_rate, eps=config.eps, fused=fused)
    obs, actions, rewards, next_obs, dones = batch_of(n, config.batch_size, device)

    def step() -> None:
        with torch.no_grad():
            td_target = rewards + config.gamma * (1.0 - dones) * online.call(target, next_obs).max(dim=-1).values
        q_taken = online(obs).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        losses = torch.nn.functional.smooth_l1_loss(q_taken, td_target, reduction="none").mean(-1)
        optimizer.zero_grad()
        losses.sum().backward()  # agent i's parameters get the gradient of agent i's loss only
        optimizer.step()

    return step


def bare_matmuls(config: DQNConfig, n: int, device: str):
    """The step's batched matmuls and nothing else (into preallocated outputs): per layer the
    online and target forward products, grad_W = g^T x, and grad_x = g W above the first layer."""
    widths = [OBSERVATION[0] * OBSERVATION[1] * OBSERVATION[2], *config.hidden, ACTIONS]
    b = config.batch_size
    jobs, flops = [], 0
    for layer, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        x, w, g = (torch.rand(n, b, fan_in, device=device), torch.rand(n, fan_out, fan_in, device=device), torch.rand(n, b, fan_out, device=device))
        products = [(x, w.transpose(1, 2)), (x, w.transpose(1, 2)), (g.transpose(1, 2), x)]
        if layer > 0:
            products.append((g, w))
        for a, m in products:
            jobs.append((a, m, torch.empty(n, a.shape[1], m.shape[2], device=device)))
            flops += 2 * n * a.shape[1] * a.shape[2] * m.shape[2]

    def run() -> None:
        for a, m, out in jobs:
            torch.bmm(a, m, out=out)

    return run, flops


def seconds(fn, device: str, repeats: int) -> float:
    """Median seconds of one call: CPU time on a CPU (other jobs do not count), synchronised wall time on a GPU."""
    cuda = device.startswith("cuda")
    clock = time.perf_counter if cuda else time.process_time
    fn()
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = clock()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(clock() - start)
    return statistics.median(times)


def operators(fn) -> int:
    """Every aten operator the profiler records in one call of ``fn`` (nested ones included)."""
    fn()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return sum(1 for event in prof.events() if event.name.startswith("aten::"))


def train_step_figures(config: DQNConfig, n: int, device: str, repeats: int) -> dict:
    one, stack = one_agent_step(config, device), population_step(config, n, device)
    fused = population_step(config, n, device, fused=True)
    bare, flops = bare_matmuls(config, n, device)
    step_s, fused_s, bare_s, one_s = [], [], [], []
    for _ in range(3):  # interleaved: a change in the machine's load falls on all four
        step_s.append(seconds(stack, device, repeats))
        fused_s.append(seconds(fused, device, repeats))
        bare_s.append(seconds(bare, device, repeats))
        one_s.append(seconds(one, device, repeats * 4))
    step, fused_time, bare_time, one_time = min(step_s), min(fused_s), min(bare_s), min(one_s)
    ops_population, ops_one = operators(stack), operators(one)
    return {
        "flop_fraction": bare_time / step,  # (flops / step) / (flops / bare)
        "dispatch_ratio": ops_population / n / ops_one,
        "dispatch_goal": 1.2 / n,
        "operators_population_step": ops_population,
        "operators_one_agent_step": ops_one,
        "flop_fraction_fused_adam": bare_time / fused_time,  # StackedAdam(fused=True)
        "population_step_ms": step * 1e3,
        "population_step_fused_adam_ms": fused_time * 1e3,
        "bare_matmul_ms": bare_time * 1e3,
        "bare_matmul_gflops": flops / bare_time / 1e9,
        "one_agent_step_ms": one_time * 1e3,
        "train_step_speedup_vs_one_agent": one_time * n / step,
    }


def replay_bytes(buffer_size: int) -> dict:
    """Replay memory per agent for the block MDP: pixels (``ReplayBuffer``) against image indices
    (``IndexReplay``), each as its tensors' bytes for ``buffer_size`` transitions."""
    from plastilab.agents.replay_buffer import ReplayBuffer

    rb = ReplayBuffer(buffer_size, OBSERVATION, device="cpu", generator=torch.Generator())
    before = sum(t.element_size() * t.numel() for t in vars(rb).values() if isinstance(t, torch.Tensor))
    try:
        from plastilab.agents.index_replay import IndexReplay
    except ImportError:
        return {"before": before, "after": None}
    images = torch.zeros(10, *OBSERVATION)  # shared by every agent and the environment: not replay
    after = IndexReplay(2, buffer_size, images, [torch.Generator(), torch.Generator()]).nbytes_per_agent()
    return {"before": before, "after": after, "ratio": before / after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the figures to this file as JSON")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-pool", action="store_true", help="skip speedup_vs_pool (minutes of CLI runs per N)")
    parser.add_argument("--pool-steps", type=int, default=600, help="environment steps of each agent in the pool comparison")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, measures nothing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    hidden, batch, agents = ([256, 256], 32, args.agents) if not args.quick else ([16, 16], 8, [2])
    config = agent_config(hidden, batch)
    figures: dict = {
        "device": args.device,
        "torch": torch.__version__,
        "cores": os.cpu_count(),
        "load_average_start": list(os.getloadavg()),
        "network": [784, *hidden, ACTIONS],
        "batch": batch,
        "agents": {},
    }
    for n in agents:
        row = train_step_figures(config, n, args.device, args.repeats if not args.quick else 1)
        if not args.no_pool and args.device == "cpu":
            row.update(pool_figures(n, args.pool_steps if not args.quick else 60, quick=args.quick))
        figures["agents"][str(n)] = row
        print(describe(n, row), flush=True)
    figures["replay_bytes_per_agent"] = replay_bytes(20_000)
    figures["load_average_end"] = list(os.getloadavg())
    replay = figures["replay_bytes_per_agent"]
    if replay["after"] is not None:
        print(f"replay bytes per agent (20,000 transitions): before {replay['before']:,}, after {replay['after']:,} "
              f"({replay['ratio']:.0f}x less; goal >= 50x)")
    print(f"load average {figures['load_average_start'][0]:.1f} at the start, {figures['load_average_end'][0]:.1f} at the end "
          f"({figures['cores']} cores), {args.device}, torch {torch.__version__}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def describe(n: int, row: dict) -> str:
    text = (f"N={n:4d}: flop_fraction {row['flop_fraction']:.2f} (goal >= 0.4)  dispatch_ratio {row['dispatch_ratio']:.4f} "
            f"(goal <= {row['dispatch_goal']:.4f}; {row['operators_population_step']} vs {row['operators_one_agent_step']} operators a step)  "
            f"train step {row['population_step_ms']:.1f} ms, {row['train_step_speedup_vs_one_agent']:.2f}x one agent's per agent-step; "
            f"fused Adam: flop_fraction {row['flop_fraction_fused_adam']:.2f}, {row['population_step_fused_adam_ms']:.1f} ms")
    if "speedup_vs_pool" in row:
        text += (f"\n        speedup_vs_pool {row['speedup_vs_pool']:.2f} (agent-steps per CPU-second; goal >= 2)  "
                 f"wall {row['speedup_vs_pool_wall']:.2f}  load {row['pool_load_average']:.1f}")
    return text


if __name__ == "__main__":
    main()
