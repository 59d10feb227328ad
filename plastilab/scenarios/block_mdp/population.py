"""Block-MDP trials packed into one run: the merged scenario and where each trial's series are in it.

A study's trial that trains one agent on one reward variant for one seed is a point
(reward, agent, seed). Trials that agree on everything else (the agent's shape, the data, the
instruments, the step budget) run as one block-MDP scenario whose rewards, agents and seeds are
theirs: its series ``<reward>/<aN>/td/s<seed>`` is the trial's ``<agent>/td``. The population
runner (``runtime.population``) hands each series' events to its trial's own run folder under the
trial's name, so a packed trial's folder holds what the trial run alone would write.

The merged scenario runs the product rewards × agents × seeds, so the planner (``studies.
populations``) only packs trials that form such a product: nothing is trained for nobody.

Pydantic only: the planner runs in the scheduler, which never imports torch.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from plastilab.scenarios.block_mdp.schema import BlockMDPConfig


# What a population may vary from agent to agent: a stacked population trains these side by side
# (one optimiser state each). Everything else of an agent (torso, widths, buffer, batch, the
# update schedule) fixes the shape of the stack or when it steps, so it must be equal.
VARYING_AGENT_KEYS = (
    "optimizer",
    "learning_rate",
    "eps",
    "gamma",
    "loss",
    "double_dqn",
    "start_e",
    "end_e",
    "exploration_fraction",
)
# Top-level keys that name or describe a trial, never change what it computes.
NAMING_KEYS = ("name", "description", "watch_for", "estimated_cpu_seconds")


@dataclass(frozen=True)
class Member:
    """One trial inside the merged run: its series names there -> its own names."""

    series: dict[str, str]  # merged name -> the trial's own name
    agent: tuple[str, str]  # (merged agent name, the trial's agent name): the key in messages


def why_not_packed(config: Any) -> str | None:
    """None when the trial is one point (one reward, one agent, one seed) that may share a run."""
    if len(config.env.rewards) != 1 or len(config.agents) != 1:
        return "it trains several agents or reward variants itself"
    if len(config.seed_values()) != 1:
        return "it runs several seeds itself"
    if config.checkpoint_every:
        return "it checkpoints (a resumed trial goes on from its own checkpoint)"
    return None


def population_key(config: Any) -> str:
    """Trials with equal keys may share one run: the scenario without its point."""
    data = config.model_dump(mode="json", exclude_none=True)
    for key in (*NAMING_KEYS, "seed", "seeds"):
        data.pop(key, None)
    data["env"].pop("rewards")
    (agent,) = data.pop("agents").values()
    data["agent_shape"] = {k: v for k, v in agent.items() if k not in VARYING_AGENT_KEYS}
    return json.dumps(data, sort_keys=True)


def point(config: Any) -> tuple[str, str, int]:
    """(reward variant, the agent's varying keys as text, seed): the trial's place in a product."""
    (agent,) = config.agents.values()
    varying = {k: v for k, v in agent.model_dump(mode="json").items() if k in VARYING_AGENT_KEYS}
    return config.env.rewards[0], json.dumps(varying, sort_keys=True), config.seed_values()[0]


def merge(configs: list[Any], name: str) -> tuple[dict[str, Any], list[Member]]:
    """The scenario (plain data) that runs every trial of ``configs`` (one population, equal
    ``population_key``), and each trial's place in it, in the order given."""
    points = [point(c) for c in configs]
    rewards = list(dict.fromkeys(p[0] for p in points))
    agents = list(dict.fromkeys(p[1] for p in points))
    seeds = list(dict.fromkeys(p[2] for p in points))
    if len(set(points)) != len(points) or len(points) != len(rewards) * len(agents) * len(seeds):
        raise ValueError("a population is a product of rewards, agents and seeds, each point once")
    first = configs[0]
    merged = first.model_dump(mode="json", exclude_none=True)
    merged.update(name=name, seed=seeds[0])
    merged.pop("seeds", None)
    if len(seeds) > 1:
        merged["seeds"] = seeds
    merged["env"]["rewards"] = rewards
    merged["agents"] = {}
    by_agent: dict[str, Any] = {}
    for config, (_, varying, _) in zip(configs, points):
        by_agent.setdefault(varying, next(iter(config.agents.values())).model_dump(mode="json"))
    for index, varying in enumerate(agents):
        merged["agents"][f"a{index}"] = copy.deepcopy(by_agent[varying])
    # Names in the merged run, as the kind itself names them (its combinations and seeds).

    run = BlockMDPConfig.model_validate(merged)
    prefixes = {(reward, agent): prefix for reward, agent, prefix in run.combinations()}
    procedures = ("td", "brownian") if first.training.brownian else ("td",)
    members = []
    for config, (reward, varying, seed) in zip(configs, points):
        merged_agent = f"a{agents.index(varying)}"
        (own_agent,) = config.agents
        (own,) = config.combinations()
        series = {}
        for procedure in procedures:
            seeded = run.seeded([f"{prefixes[reward, merged_agent]}/{procedure}"])
            series[seeded[seeds.index(seed)] if len(seeded) > 1 else seeded[0]] = f"{own[2]}/{procedure}"
        if sorted(series.values()) != sorted(config.series()):  # the kind's naming changed: say so, loudly
            raise AssertionError(f"block-MDP series naming: {sorted(series.values())} != {config.series()}")
        members.append(Member(series, (merged_agent, own_agent)))
    if sorted(name for m in members for name in m.series) != sorted(run.series()):
        raise AssertionError("block-MDP population: the merged run's series are not its trials' series")
    return merged, members
