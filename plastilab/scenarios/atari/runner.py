"""The Atari scenario, top to bottom (paper §5.3 on the Arcade Learning Environment).

for each seed (the ``seeds`` axis), one after another, as a run of that seed alone would:
for each agent: a training game (rewards clipped), a DQN learner, its run_dqn loop, an evaluation
game (rewards unclipped, no life-loss signal) and one InstrumentSuite
probe and statistics inputs: a fixed set of frames a uniformly random policy sees, gathered once
at step 0: the probe's baseline of every series (θ_0)
for each agent step (4 emulator frames):
    every agent takes one step of its DQN loop                               (act, store, train, refresh)
    every log_every steps: td/loss, q/mean (window means), explore/epsilon, episode/return (unclipped)
    when an instrument is due: measure the online network on one replay batch with the TD loss
    of its current targets
    every evaluation.every steps and at the end: evaluation.episodes separate episodes at a fixed
    small ε, logged as eval/return and eval/human_normalized
    every checkpoint_every steps: the run's state is saved (a resumed run starts here)
continual RL (env.games, env.switch_every = N): the training game is an AtariCycle (every game
    with the 18 actions): every N steps the episode is cut and the next game starts; the switch is
    a task boundary; returns are logged per game, and evaluation plays the game just trained on
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from plastilab.agents.dqn import DQN, DQNStep, run_dqn, td_loss_fn
from plastilab.core.context import RunContext
from plastilab.core.events import Event, Scalars, TaskBoundary
from plastilab.core.seeds import run_seeds_one_after_another
from plastilab.envs.atari import AtariEnv, require_atari
from plastilab.envs.atari_cycle import AtariCycle
from plastilab.instruments.suite import InstrumentSuite
from plastilab.scenarios.atari.evaluation import evaluate, random_policy_frames
from plastilab.scenarios.atari.schema import AtariConfig
from plastilab.scenarios.atari.scores import human_normalized
from plastilab.scenarios.common import WindowedMean, add_intervention_scalars
from plastilab.scenarios.dqn_windows import DQNWindows


@dataclass
class AtariAgent(DQNWindows):
    """One series: a DQN learning one game, with its own training and evaluation games (its
    window returns unclipped, the return so far clipped: its loop's)."""

    name: str
    env: AtariEnv | AtariCycle
    eval_env: AtariEnv | AtariCycle
    agent: DQN
    suite: InstrumentSuite
    loop: Iterator[DQNStep] | None = None
    game_returns: dict[str, list[float]] = field(default_factory=dict)  # a cycle's, per game, since the last log
    evaluations: int = 0


def run_atari(config: AtariConfig, ctx: RunContext) -> Iterator[Event]:
    # Seeds run one after another: each agent's loop steps its own game, nothing to stack.
    require_atari(ctx.source)
    return (yield from run_seeds_one_after_another(config, ctx, run_one_seed))


def run_one_seed(config: AtariConfig, ctx: RunContext) -> Iterator[Event]:
    env_cfg, training, evaluation = config.env, config.training, config.evaluation
    options = dict(sticky_actions=env_cfg.sticky_actions, noop_max=env_cfg.noop_max)
    n_inputs = _measurement_inputs(config)
    inputs = _probe_frames(config, n_inputs, options).to(ctx.device) if n_inputs else None
    agents = []
    for name, agent_cfg in config.agents.items():
        env, eval_env = _games(config, ctx.device, options)
        agent = DQN(agent_cfg, env.observation_shape, env.n_actions, device=ctx.device, seed=config.seed)
        suite = InstrumentSuite(config.instruments, probe_inputs=inputs, seed=config.seed)
        agents.append(AtariAgent(name, env, eval_env, agent, suite, td_loss=WindowedMean(ctx.device), q_mean=WindowedMean(ctx.device)))
    checkpoints = ctx.checkpoints
    resumed = checkpoints.take() if checkpoints is not None else None
    # Measurement batches come from their own stream, so switching an instrument on or off
    # never changes what the agents train on.
    measure_stream = torch.Generator().manual_seed(config.seed + 7)
    first = 1
    if resumed is not None:
        first = load_state(resumed, agents, measure_stream, ctx.device) + 1
    switch_every = env_cfg.switch_every
    for a in agents:
        if resumed is None and switch_every:
            yield TaskBoundary(step=0, task=0, series=a.name)  # the first game's turn
        if resumed is None:
            yield from a.suite.start(a.name, a.agent.q_network)  # θ_0 and the probe's step-0 baseline
        a.loop = run_dqn(
            a.env, a.agent, training.total_steps, seed=config.seed, before_update=_before_update(a),
            resume_after=(first - 1, a.return_so_far) if resumed is not None else None,
        )
        if resumed is None:
            yield _evaluated(a, 0, config, ctx)  # the untrained network: the curve's start

    try:
        for step in range(first, training.total_steps + 1):
            for a in agents:
                result = next(a.loop)
                a.took(result)
                # run_dqn's return is the clipped one; a turn's cut episode is no game's score
                if result.episode_return is not None and getattr(a.env, "last_episode_complete", True):
                    a.window_returns.append(a.env.last_episode_return)
                    a.game_returns.setdefault(_game_played(a, step), []).append(a.env.last_episode_return)
                if step % training.log_every == 0 or step == training.total_steps:
                    yield _logged_scalars(a, step, result, ctx)
                if a.suite.due(step):
                    yield from _measure(a, step, config, measure_stream)
                if (evaluation.every and step % evaluation.every == 0) or step == training.total_steps:
                    yield _evaluated(a, step, config, ctx)
                if switch_every and step % switch_every == 0 and step < training.total_steps:
                    yield TaskBoundary(step=step, task=step // switch_every, series=a.name)
                    if a.agent.interventions is not None:  # a game's turn ends: a task change
                        add_intervention_scalars(a.intervened, a.agent.interventions.task_change(a.agent))
            if checkpoints is not None and checkpoints.due(step):
                checkpoints.save(step, state_dict(step, agents, measure_stream))
    finally:
        for a in agents:
            if a.loop is not None:
                a.loop.close()
            a.env.close()
            a.eval_env.close()


def state_dict(step: int, agents: list[AtariAgent], measure_stream: torch.Generator) -> dict:
    """The run after ``step``, for a checkpoint: every agent (networks, optimiser, replay
    buffer, streams), its game, windows and instruments, and the measurement stream. An
    evaluation game starts from its own seed each time: only how many were played is kept."""
    return {
        "step": step,
        "agents": [
            {
                "agent": a.agent.state_dict(),
                "env": a.env.state_dict(),
                "td_loss": a.td_loss.state_dict(),
                "q_mean": a.q_mean.state_dict(),
                "window_returns": list(a.window_returns),
                "game_returns": {game: list(r) for game, r in a.game_returns.items()},
                "evaluations": a.evaluations,
                "return_so_far": a.return_so_far,
                "suite": a.suite.state_dict(),
            }
            for a in agents
        ],
        "measure_stream": measure_stream.get_state(),
    }


def load_state(state: dict, agents: list[AtariAgent], measure_stream: torch.Generator, device: str) -> int:
    """Put a checkpoint's ``state_dict`` back; the step it was taken after."""
    for a, saved in zip(agents, state["agents"], strict=True):
        a.agent.load_state_dict(saved["agent"])
        a.env.load_state_dict(saved["env"])
        a.load_windows(saved)
        a.game_returns = {game: [float(r) for r in rs] for game, rs in saved.get("game_returns", {}).items()}
        a.evaluations = int(saved["evaluations"])
        a.suite.load_state_dict(saved["suite"], device)
    measure_stream.set_state(state["measure_stream"])
    return int(state["step"])


def _games(config: AtariConfig, device: str, options: dict) -> tuple[AtariEnv | AtariCycle, AtariEnv | AtariCycle]:
    """The training game (rewards clipped) and the evaluation game (unclipped, no life-loss
    signal): one ``AtariEnv``, or for a cycle an ``AtariCycle`` of every game each."""
    env_cfg, evaluation = config.env, config.evaluation
    train = dict(clip_rewards=env_cfg.clip_rewards, device=device, max_frames=env_cfg.max_frames, terminal_on_life_loss=env_cfg.terminal_on_life_loss, **options)
    held_out = dict(clip_rewards=False, device=device, max_frames=evaluation.max_frames or env_cfg.max_frames, terminal_on_life_loss=False, **options)
    if env_cfg.games:
        # evaluation switches by itself never: it plays the game training has just played
        return AtariCycle(env_cfg.games, switch_every=env_cfg.switch_every, **train), AtariCycle(env_cfg.games, switch_every=0, **held_out)
    return AtariEnv(env_cfg.game, **train), AtariEnv(env_cfg.game, **held_out)


def _probe_frames(config: AtariConfig, n: int, options: dict) -> torch.Tensor:
    """Frames a uniformly random policy meets, shared out over the games played (a cycle's with
    the 18 actions its agent has)."""
    games = config.played_games()
    if not config.env.games:
        return random_policy_frames(games[0], n, seed=config.seed + 3, **options)
    shares = [n // len(games) + (k < n % len(games)) for k in range(len(games))]
    return torch.cat([
        random_policy_frames(game, share, seed=config.seed + 3, full_action_space=True, **options)
        for game, share in zip(games, shares) if share
    ])


def _game_played(a: AtariAgent, step: int) -> str:
    """The game of agent step ``step`` (a cycle's reset may already have moved to the next)."""
    if isinstance(a.env, AtariCycle):
        return a.env.games[a.env.game_at(step - 1)]
    return a.env.game


def _measurement_inputs(config: AtariConfig) -> int:
    """Frames the probe and the unit statistics look at (0 when neither is on)."""
    tables = [t for t in (config.instruments.probe, config.instruments.stats) if t is not None and t.every > 0]
    return max((t.n_examples for t in tables), default=0)


def _before_update(a: AtariAgent):
    """Let the suite copy the parameters just before a step on which stats are due (updates/ratio)."""

    def hook(step: int) -> None:
        a.suite.before_step(step, a.name, a.agent.q_network)

    return hook


def _logged_scalars(a: AtariAgent, step: int, result: DQNStep, ctx: RunContext) -> Scalars:
    values = a.logged(result, step, ctx, series=a.name, agent=a.name, also={"env/frames": float(a.env.frames)})
    if isinstance(a.env, AtariCycle):
        values["env/game"] = float(a.env.game_at(step - 1))  # the index of the game being played
        for game, returns in a.game_returns.items():
            values[f"game/{game}/return"] = float(np.mean(returns))
        a.game_returns = {}
    values.update(a.take_intervened())
    return Scalars(step=step, series=a.name, values=values, wall_time=time.time())


def _evaluated(a: AtariAgent, step: int, config: AtariConfig, ctx: RunContext) -> Scalars:
    evaluation = config.evaluation
    seed = config.seed + 10_000 * (a.evaluations + 1)  # fresh, reproducible episodes each time
    a.evaluations += 1
    game = _game_played(a, max(step, 1))
    if isinstance(a.eval_env, AtariCycle):
        a.eval_env.select(a.eval_env.games.index(game))
    returns = evaluate(a.eval_env, a.agent.q_network, evaluation.episodes, evaluation.epsilon, seed=seed)
    score = float(np.mean(returns))
    values = {
        "eval/return": score,
        "eval/human_normalized": human_normalized(game, score),
        "eval/return_std": float(np.std(returns)),
    }
    if isinstance(a.eval_env, AtariCycle):
        values[f"game/{game}/eval_return"] = score
    return Scalars(step=step, series=a.name, values=values, wall_time=time.time())


def _measure(a: AtariAgent, step: int, config: AtariConfig, stream: torch.Generator) -> list[Event]:
    """The due instruments on the online network, on one replay batch, with the TD loss of the
    targets it is currently regressing onto (held fixed). The covariance orders the batch by the
    action taken, so its blocks are same-action pairs."""
    agent = a.agent
    loss_fn = td_loss_fn(config.agents[a.name].loss)
    data = agent.replay_buffer.sample(a.suite.batch_examples(), generator=stream)
    td_target = agent.td_targets(data.rewards, data.next_observations, data.dones)
    batch = (data.observations, (data.actions, td_target))
    return a.suite.measure(step, a.name, agent.q_network, loss_fn=loss_fn, batch=batch, labels=data.actions)
