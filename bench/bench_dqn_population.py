"""Block-MDP DQN agents trained as a population against the same agents one at a time.

The falsification study's agent (784-256-256-4 MLP, batch 32, Adam, one TD step per environment
step, learning already under way) is stepped alone through ``run_dqn``, then N agents (seeds
0..N-1, the three reward variants in turn) through ``run_dqn_population``; the two are
interleaved ``--repeats`` times. On the CPU the time is this process's CPU time, so other jobs
on a shared machine do not tilt the ratio (with one torch thread it is the loop's time); on a
GPU it is wall time with the device synchronised. Prints agent-steps/s of each, the ratio
population/alone (the issue's target for N = 32 on the CPU: >= 2, i.e. one core running the
population does twice the work of one core running agents one per process), the replay bytes
per agent of each, and the load average.

With ``--fused-adam`` both sides use torch's fused Adam kernel (``fused_adam = true``: the lone
agent and the population still agree bit for bit, on another trajectory than the default Adam's).

    .venv/bin/python bench/bench_dqn_population.py [--agents 8 32] [--steps 300] [--repeats 3] [--device cpu] [--fused-adam]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from plastilab.agents.dqn import DQN, run_dqn
from plastilab.agents.dqn_config import DQNConfig
from plastilab.agents.dqn_population import DQNPopulation
from plastilab.agents.run_dqn_population import run_dqn_population
from plastilab.data.datasets import load_images
from plastilab.envs.block_mdp import REWARD_VARIANTS, BlockMDP
from plastilab.envs.block_mdp_batch import BlockMDPBatch

WARMUP = 40  # steps past learning_starts before the clock starts (first-call costs)
CONFIG = DQNConfig(hidden=[256, 256], batch_size=32, buffer_size=20_000, learning_starts=100, target_network_frequency=1000, gamma=0.9)


def clock(device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


def timed(loop, steps: int, device: str) -> float:
    """Seconds per step of ``loop`` over ``steps`` steps after the warm-up."""
    for _ in range(CONFIG.learning_starts + WARMUP):
        next(loop)
    start = clock(device)
    for _ in range(steps):
        next(loop)
    return (clock(device) - start) / steps


def alone(images, labels, steps: int, device: str) -> tuple[float, int]:
    env = BlockMDP(images, labels, reward="class_aligned", n_actions=4, seed=0)
    agent = DQN(CONFIG, env.observation_shape, 4, device=device, seed=0)
    rb = agent.replay_buffer
    nbytes = sum(t.element_size() * t.numel() for t in (rb.observations, rb.next_observations, rb.actions, rb.rewards, rb.dones, rb.latent_states))
    total = CONFIG.learning_starts + WARMUP + steps
    return 1.0 / timed(run_dqn(env, agent, total), steps, device), nbytes


def together(images, labels, n: int, steps: int, device: str) -> tuple[float, int]:
    seeds = list(range(n))
    envs = BlockMDPBatch([BlockMDP(images, labels, reward=REWARD_VARIANTS[s % 3], n_actions=4, seed=s) for s in seeds])
    pop = DQNPopulation([CONFIG] * n, images, 4, seeds=seeds, device=device)
    total = CONFIG.learning_starts + WARMUP + steps
    return n / timed(run_dqn_population(envs, pop, total, seeds), steps, device), pop.replay.nbytes_per_agent()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fused-adam", action="store_true", help="torch's fused Adam kernel, alone and stacked")
    args = parser.parse_args()
    global CONFIG
    CONFIG = CONFIG.model_copy(update={"fused_adam": args.fused_adam})
    torch.set_num_threads(args.threads)
    images, labels = load_images("mnist-5k", 5000, seed=0)
    images = images.to(args.device)
    rates: dict[str, list[float]] = {"alone": []} | {f"N={n}": [] for n in args.agents}
    for _ in range(args.repeats):
        rate, alone_bytes = alone(images, labels, args.steps, args.device)
        rates["alone"].append(rate)
        for n in args.agents:
            rate, pop_bytes = together(images, labels, n, max(args.steps // n * 4, 20), args.device)
            rates[f"N={n}"].append(rate)
    base = statistics.median(rates["alone"])
    print(f"device {args.device}, {args.threads} thread(s), {'fused' if args.fused_adam else 'op-by-op'} Adam, load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    print(f"replay bytes per agent (20,000 transitions): alone {alone_bytes:,}, population {pop_bytes:,} ({alone_bytes / pop_bytes:.0f}x less)")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:>7}: {median:8.1f} agent-steps/s (runs {', '.join(f'{v:.1f}' for v in values)})  ratio {median / base:.2f}")


if __name__ == "__main__":
    main()
