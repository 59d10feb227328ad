"""The Atari scenario's DQN loop against a CleanRL-style single-file DQN loop (after CleanRL's
``dqn_atari.py``) on the same game and settings, in one process, interleaved, both on the CPU,
timed in CPU seconds of this process from the first gradient step on (so another process on a
shared machine does not tilt the ratio; wall seconds with ``--device cuda``). The scenario runs as a user runs it: launcher, driver,
event stream and run-folder writer included; instruments off (they have their own benches) and
evaluation cut to one step. Both loops: ALE Pong under the same preprocessing
(``plastilab.envs.atari.make_atari``), Nature CNN, double DQN, Huber loss, Adam, batch 32, one
gradient step every 4 agent steps, ε-greedy. Prints agent steps/s of each and the ratio.

    .venv/bin/python bench/bench_atari_dqn_loop.py [--steps 2500] [--learning-starts 500] [--repeats 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from plastilab.core.events import Scalars
from plastilab.core.scenario_file import load_scenario
from plastilab.envs.atari import make_atari
from plastilab.runtime.launcher import launch

QUICK = Path(__file__).resolve().parents[1] / "scenarios" / "atari-pong-quick.toml"
BUFFER, BATCH, TRAIN_EVERY, TARGET_EVERY, GAMMA, LR = 10_000, 32, 4, 1000, 0.99, 1e-4


class QNetwork(nn.Module):
    def __init__(self, n_actions: int) -> None:
        super().__init__()
        self.network = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(), nn.Linear(512, n_actions),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x / 255.0)


def clock_for(device: str):
    """CPU seconds of this process on the CPU; wall seconds on a GPU (its work is not CPU time)."""
    return time.process_time if device == "cpu" else time.perf_counter


def linear_schedule(start_e: float, end_e: float, duration: int, t: int) -> float:
    return max(end_e, start_e + (end_e - start_e) * t / duration)


def cleanrl_loop(steps: int, learning_starts: int, device: str) -> float:
    """Agent steps per CPU second of the single-file loop, after ``learning_starts``."""
    env = make_atari("Pong")
    n_actions = int(env.action_space.n)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    q_network = QNetwork(n_actions).to(device)
    target_network = QNetwork(n_actions).to(device)
    target_network.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=LR, eps=1.5e-4)
    obs_buf = np.zeros((BUFFER, 4, 84, 84), dtype=np.uint8)
    next_buf = np.zeros_like(obs_buf)
    act_buf = np.zeros(BUFFER, dtype=np.int64)
    rew_buf = np.zeros(BUFFER, dtype=np.float32)
    done_buf = np.zeros(BUFFER, dtype=np.float32)
    size = pos = 0
    obs, _ = env.reset(seed=0)
    now = clock_for(device)
    start = None
    for step in range(steps):
        if step == learning_starts:
            start = now()
        epsilon = linear_schedule(1.0, 0.05, steps // 2, step)
        if rng.random() < epsilon:
            action = int(rng.integers(n_actions))
        else:
            with torch.no_grad():
                action = int(q_network(torch.as_tensor(np.asarray(obs), device=device).unsqueeze(0).float()).argmax(1).item())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        obs_buf[pos], next_buf[pos], act_buf[pos] = obs, next_obs, action
        rew_buf[pos], done_buf[pos] = np.sign(reward), float(terminated)
        pos, size = (pos + 1) % BUFFER, min(size + 1, BUFFER)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
        if step >= learning_starts and step % TRAIN_EVERY == 0:
            idx = rng.integers(size, size=BATCH)
            o = torch.as_tensor(obs_buf[idx], device=device).float()
            n = torch.as_tensor(next_buf[idx], device=device).float()
            a = torch.as_tensor(act_buf[idx], device=device)
            r = torch.as_tensor(rew_buf[idx], device=device)
            d = torch.as_tensor(done_buf[idx], device=device)
            with torch.no_grad():
                best = q_network(n).argmax(1, keepdim=True)  # double DQN
                target = r + GAMMA * (1 - d) * target_network(n).gather(1, best).squeeze(1)
            q = q_network(o).gather(1, a.unsqueeze(1)).squeeze(1)
            loss = F.smooth_l1_loss(q, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if step % TARGET_EVERY == 0:
            target_network.load_state_dict(q_network.state_dict())
    if device == "cuda":
        torch.cuda.synchronize()
    env.close()
    return (steps - learning_starts) / (now() - start)


class StepClock:
    """Times the scenario's loop between its first logged step at or after ``after`` and its last."""

    def __init__(self, after: int, now) -> None:
        self.after = after
        self.now = now
        self.marks: list[tuple[float, int]] = []

    def handle(self, event) -> None:
        if isinstance(event, Scalars) and event.step >= self.after:
            self.marks.append((self.now(), event.step))

    def rate(self) -> float:
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0)


def scenario_loop(steps: int, learning_starts: int, device: str, out: Path) -> float:
    scenario = load_scenario(QUICK, [
        f"device={device}", f"training.total_steps={steps}", "training.log_every=100",
        f"agents.dqn.learning_starts={learning_starts}", f"agents.dqn.buffer_size={BUFFER}",
        f"agents.dqn.batch_size={BATCH}", f"agents.dqn.train_frequency={TRAIN_EVERY}",
        "evaluation.every=0", "evaluation.episodes=1", "evaluation.max_frames=4",
        "instruments={}",  # the training loop alone; instruments have their own benches
    ])
    clock = StepClock(learning_starts, clock_for(device))
    launch(scenario, out, consumers=[clock])
    return clock.rate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--learning-starts", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(tempfile.mkdtemp(prefix="plastilab-bench-"))
    ratios, bares, ours_all = [], [], []
    for i in range(args.repeats):
        bare = cleanrl_loop(args.steps, args.learning_starts, args.device)
        ours = scenario_loop(args.steps, args.learning_starts, args.device, out)
        ratios.append(ours / bare)
        bares.append(bare)
        ours_all.append(ours)
        print(f"repeat {i + 1}: cleanrl-style {bare:7.1f} steps/s   atari scenario {ours:7.1f} steps/s   ratio {ours / bare:.3f}")
    print(f"median ratio scenario/cleanrl-style: {statistics.median(ratios):.3f}")
    print(f"best-of ratio scenario/cleanrl-style: {max(ours_all) / max(bares):.3f}")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
