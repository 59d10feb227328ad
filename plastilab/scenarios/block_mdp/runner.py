"""The block-MDP scenario, top to bottom (paper §3.1-3.3).

for each seed (the ``seeds`` axis), one after another, as a run of that seed alone would (or, when
the run's combinations train as populations, every seed at once: one population holds the
compatible agents of every seed, each seed with its own images, suites and measurement stream,
its series named ``…/s<seed>`` as one after another names them):

load the images; for each reward variant, a BlockMDP over them (tables drawn from the seed)
for each (reward variant, agent): a DQN learner and its Brownian copy if asked; compatible
    combinations train as one population (``training.population``, see learners.py), each still
    its own agent with its own environment, streams and series
one InstrumentSuite per agent: the same probe targets for its td and brownian series, every reward
at step 0: the probe's baseline of every series (θ_0)
at step 0: each td series logs the optimal and the random return (reference lines for the curve)
continual RL (env.switch_every = N): every N steps each environment draws its next task's tables
    (the same for every agent of a seed); the run marks the switch as a task boundary
for each environment step:
    every learner (a lone DQN loop, or a population's) takes one step   (act, store, train, refresh)
    then, combination by combination in their order:
    every log_every steps: td/loss, q/mean (window means), explore/epsilon, episode/return
    (a TD loss gone NaN/inf ends that combination only: a SeriesFailed event carries the line
    naming the series and the key to lower, the combination writes nothing more and its
    neighbours train on (each agent of a population has its own gradient and optimiser rows);
    the driver ends a plain run failed with that line, a study's population fails that trial)
    every checkpoint_every steps: the run's state is saved (a resumed run starts here)
    when an instrument is due: measure the online network, and the Brownian copy, on one replay
    batch with the TD loss of the online network's current targets
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from plastilab.agents.dqn import DQN, DQNStep, td_loss_fn
from plastilab.core.context import RunContext
from plastilab.core.seeds import run_seeds_one_after_another
from plastilab.core.series_names import seeded_name
from plastilab.core.errors import NonFiniteLoss
from plastilab.core.events import Event, Scalars, SeriesFailed, TaskBoundary
from plastilab.envs.block_mdp import BlockMDP
from plastilab.instruments.suite import InstrumentSuite
from plastilab.scenarios.block_mdp.learners import PopulationMember, build_learners, groups_of_compatible, trains_as_population
from plastilab.scenarios.block_mdp.schema import BlockMDPConfig
from plastilab.scenarios.common import WindowedMean, add_intervention_scalars, load_scenario_images
from plastilab.scenarios.dqn_windows import DQNWindows


@dataclass
class Combination(DQNWindows):
    """One reward variant with one agent: the series ``<prefix>/td`` (and ``<prefix>/brownian``)."""

    reward: str
    agent_name: str
    prefix: str
    env: BlockMDP
    agent: DQN | PopulationMember
    suite: InstrumentSuite
    returns: list[float] = field(default_factory=list)  # every finished episode
    failed: bool = False  # its loss became NaN or infinite: it writes nothing more, the others go on

    seed: int = 0
    # Measurement batches come from each combination's own stream (seeded from its seed), so
    # switching an instrument on or off never changes what the agents train on, and a combination
    # is measured on the batches it would be measured on alone (a study's population runs trials
    # as the combinations of one run).
    measure_stream: torch.Generator | None = None
    several_seeds: bool = False  # series named <…>/s<seed>

    @property
    def td(self) -> str:
        return self._named(f"{self.prefix}/td")

    @property
    def brownian(self) -> str:
        return self._named(f"{self.prefix}/brownian")

    def _named(self, series: str) -> str:
        return seeded_name(series, self.seed) if self.several_seeds else series


def run_block_mdp(config: BlockMDPConfig, ctx: RunContext) -> Iterator[Event]:
    seeds = config.seed_values()
    if len(seeds) > 1 and populations_hold_seeds(config, ctx.device):
        return (yield from run_seeds(config, ctx, seeds))
    return (yield from run_seeds_one_after_another(config, ctx, run_one_seed))


def populations_hold_seeds(config: BlockMDPConfig, device: str) -> bool:
    """Whether the seeds train together: where the largest group of compatible agents, over
    every seed, trains as a population (it then holds every seed's agents)."""
    agents = [config.agents[name] for _, name, _ in config.combinations()]
    group = max(groups_of_compatible(agents), key=len)
    return trains_as_population(config.training.population, len(group) * len(config.seed_values()), device, agents[group[0]])


def run_one_seed(config: BlockMDPConfig, ctx: RunContext) -> Iterator[Event]:
    return (yield from run_seeds(config, ctx, [config.seed]))


def run_seeds(config: BlockMDPConfig, ctx: RunContext, seeds: list[int]) -> Iterator[Event]:
    training = config.training
    several = len(seeds) > 1
    envs, combo_seeds, suites = [], [], {}
    for seed in seeds:
        images, labels = load_scenario_images(config, ctx, seed=seed)
        images = images.to(ctx.device)
        for name in config.agents:
            suites[seeded_name(name, seed) if several else name] = InstrumentSuite(config.instruments, probe_inputs=images, seed=seed)
        for reward, _, _ in config.combinations():
            envs.append(BlockMDP(images, labels, reward=reward, n_actions=config.env.n_actions, episode_length=config.env.episode_length, seed=seed, switch_every=config.env.switch_every))
            combo_seeds.append(seed)
    specs = [spec for _ in seeds for spec in config.combinations()]
    agents, learners = build_learners(
        training.population, envs, [config.agents[name] for _, name, _ in specs], seeds=combo_seeds,
        total_steps=training.total_steps, device=ctx.device, brownian=training.brownian,
    )
    combos = [
        Combination(
            reward, name, prefix, env, agent, suites[seeded_name(name, seed) if several else name],
            td_loss=WindowedMean(ctx.device), q_mean=WindowedMean(ctx.device), seed=seed, measure_stream=torch.Generator().manual_seed(seed + 7), several_seeds=several,
        )
        for (reward, name, prefix), env, agent, seed in zip(specs, envs, agents, combo_seeds)
    ]
    checkpoints = ctx.checkpoints
    resumed = checkpoints.take() if checkpoints is not None else None
    first = 1
    if resumed is not None:
        first = load_state(resumed, combos, suites, ctx.device) + 1
    else:
        for combo in combos:
            yield from combo.suite.start(combo.td, combo.agent.q_network)  # θ_0 and the probe's step-0 baseline
            if combo.agent.brownian is not None:
                yield from combo.suite.start(combo.brownian, combo.agent.brownian.network)
    for learner in learners:
        members = [combos[i] for i in learner.members]
        returns = [combo.return_so_far for combo in members]
        learner.loop = learner.start(_before_update(members), (first - 1, returns) if resumed is not None else None)
    switch_every = config.env.switch_every
    if resumed is None and switch_every:
        yield from _task_boundaries(combos, 0, 0)  # continual RL: the first task, for the faces' markers
    if resumed is None:
        for combo in combos:  # reference lines for the return curve
            references = {"episode/optimal_return": combo.env.optimal_return(), "episode/random_return": combo.env.random_return()}
            yield Scalars(step=0, series=combo.td, values=references, wall_time=time.time())

    for step in range(first, training.total_steps + 1):
        results: list[DQNStep] = [None] * len(combos)  # type: ignore[list-item]
        for learner in learners:
            if all(combos[i].failed for i in learner.members):
                continue  # nothing of it is recorded any more
            for i, record in zip(learner.members, next(learner.loop), strict=True):
                results[i] = record
        for combo, result in zip(combos, results):
            if combo.failed:
                continue
            combo.took(result)
            if result.episode_return is not None:
                combo.returns.append(result.episode_return)
                combo.window_returns.append(result.episode_return)
            if step % training.log_every == 0 or step == training.total_steps:
                try:
                    yield _logged_scalars(combo, step, result, ctx)
                except NonFiniteLoss as error:
                    # This combination alone stops (in a population its gradient and optimiser
                    # rows are its own); the driver ends a plain run failed with this line, a
                    # study's population fails only the trial it belongs to.
                    combo.failed = True
                    yield SeriesFailed(step, combo.td, str(error))
                    continue
            if combo.suite.due(step):
                yield from _measure(combo, step, config)
        if switch_every and step % switch_every == 0 and step < training.total_steps:
            # the environments draw the next task's tables before their next step
            yield from _task_boundaries(combos, step, step // switch_every)
            _task_change_interventions(combos)
        if checkpoints is not None and checkpoints.due(step):
            checkpoints.save(step, state_dict(step, combos, suites))

    for learner in learners:
        learner.loop.close()


def state_dict(step: int, combos: list[Combination], suites: dict[str, InstrumentSuite]) -> dict:
    """The run after ``step``, for a checkpoint: every combination's agent (networks, optimiser,
    replay buffer, streams), environment, windows and measurement stream, and the instruments'
    baselines."""
    return {
        "step": step,
        "combinations": [
            {
                "agent": combo.agent.state_dict(),
                "env": combo.env.state_dict(),
                "td_loss": combo.td_loss.state_dict(),
                "q_mean": combo.q_mean.state_dict(),
                "returns": list(combo.returns),
                "window_returns": list(combo.window_returns),
                "return_so_far": combo.return_so_far,
                "failed": combo.failed,
                "intervened": dict(combo.intervened),
                "measure_stream": combo.measure_stream.get_state(),
            }
            for combo in combos
        ],
        "suites": {name: suite.state_dict() for name, suite in suites.items()},
    }


def load_state(state: dict, combos: list[Combination], suites: dict[str, InstrumentSuite], device: str) -> int:
    """Put a checkpoint's ``state_dict`` back; the step it was taken after."""
    for combo, saved in zip(combos, state["combinations"], strict=True):
        combo.agent.load_state_dict(saved["agent"])
        combo.env.load_state_dict(saved["env"])
        combo.load_windows(saved)
        combo.returns = [float(r) for r in saved["returns"]]
        combo.failed = bool(saved.get("failed", False))
        combo.measure_stream.set_state(_saved_measure_stream(state, saved, combo.seed))
    for name, suite in suites.items():
        suite.load_state_dict(state["suites"][name], device)
    return int(state["step"])


def _saved_measure_stream(state: dict, saved: dict, seed: int) -> torch.Tensor:
    """A combination's measurement stream in a checkpoint; one written before the streams were
    per combination kept one for the run (or one a seed)."""
    if "measure_stream" in saved:
        return saved["measure_stream"]
    if "measure_streams" in state:
        return state["measure_streams"][str(seed)]
    return state["measure_stream"]


def _task_change_interventions(combos: list[Combination]) -> None:
    """A switch is a task change for the agents' interventions (reset_last_layer, reset_optimizer,
    ...); their scalars join the next log. Agents with such methods train alone, never stacked."""
    for combo in combos:
        interventions = getattr(combo.agent, "interventions", None)
        if not combo.failed and interventions is not None:
            add_intervention_scalars(combo.intervened, interventions.task_change(combo.agent))


def _task_boundaries(combos: list[Combination], step: int, task: int) -> list[TaskBoundary]:
    """A switch, on every series still training (named, so a seed run one after another marks
    its own series only)."""
    events = []
    for combo in combos:
        if not combo.failed:
            events.append(TaskBoundary(step=step, task=task, series=combo.td))
            if combo.agent.brownian is not None:
                events.append(TaskBoundary(step=step, task=task, series=combo.brownian))
    return events


def _before_update(combos: list[Combination]):
    """Let the suite copy the parameters just before a step on which stats are due, so that
    ``updates/ratio`` is exactly that step's update (for the Brownian copy too); a population
    calls it once before the step all its agents take."""

    def hook(step: int) -> None:
        for combo in combos:
            combo.suite.before_step(step, combo.td, combo.agent.q_network)
            if combo.agent.brownian is not None:
                combo.suite.before_step(step, combo.brownian, combo.agent.brownian.network)

    return hook


def _logged_scalars(combo: Combination, step: int, result: DQNStep, ctx: RunContext) -> Scalars:
    values = combo.logged(result, step, ctx, series=combo.td, agent=combo.agent_name, also={})
    values.update(combo.take_intervened())
    return Scalars(step=step, series=combo.td, values=values, wall_time=time.time())


def _measure(combo: Combination, step: int, config: BlockMDPConfig) -> list[Event]:
    """The due instruments on the online network and its Brownian copy, on one replay batch.

    The loss is the TD loss with the targets the online network is currently regressing onto
    (from its target network), held fixed: for the Brownian copy this is the same objective
    evaluated where random drift, rather than descent, has taken the parameters.
    """
    agent = combo.agent
    loss_kind = config.agents[combo.agent_name].loss
    loss_fn = td_loss_fn(loss_kind)
    n = combo.suite.batch_examples()  # enough transitions for every instrument that takes a batch
    data = agent.replay_buffer.sample(n, generator=combo.measure_stream)
    td_target = agent.td_targets(data.rewards, data.next_observations, data.dones)
    batch = (data.observations, (data.actions, td_target))
    events = combo.suite.measure(
        step, combo.td, agent.q_network, loss_fn=loss_fn, batch=batch, labels=data.latent_states
    )
    if agent.brownian is not None:
        network = agent.brownian.network
        extra = combo.suite.measure(step, combo.brownian, network, loss_fn=loss_fn, batch=batch, labels=data.latent_states)
        with torch.no_grad():
            drift = {"td/loss": float(loss_fn(network(data.observations), (data.actions, td_target)))}
        events += extra + [Scalars(step, combo.brownian, drift, time.time())]
    return events
