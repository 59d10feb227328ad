"""The continual block MDP's story (issue #29), checked on the numbers a real run wrote.

tests/data/continual-block-mdp-run holds what `plastilab run scenarios/continual-block-mdp-quick.toml`
wrote on a 2-core CPU shared with other runs: its scenario.toml and the lines of metrics.jsonl with
the probe, dead-unit, return and task tags (the rest left out). The plain and layer-norm agents ran
as one run (two populations of three seeds); the ReDo agent (which trains alone, seeds one after
another) ran in three processes, one a seed, with the file's `[agents.redo]` only; its series are
named as the whole file names them. Every agent of a seed met the same five tasks (a switch every
4,000 steps). Exact values differ between CPUs; the comparisons are what the file's comment says,
with margins from the run's own spread over seeds (mean and Student's t 95% interval, by hand).

The paper's measure is the probe (`probe/final_loss`, scale-free: 1.0 is no better than the
target's mean), taken at every switch. `probe/plasticity_loss` subtracts each network's own
step-0 probe loss, which differs between torsos (layer norm starts at 0.08, plain at 0.28), so the
comparison between agents is made on `probe/final_loss`.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

RUN = Path(__file__).parents[1] / "data" / "continual-block-mdp-run"
T_975_DF2 = 4.302652729911275  # Student's t, 97.5% quantile, 2 degrees of freedom (three seeds)
AGENTS = ("plain", "layer_norm", "redo")
SWITCH, STEPS = 4000, 20000


def by_agent(tag: str) -> dict[str, dict[int, dict[int, float]]]:
    """agent -> seed -> step -> value of ``tag`` on the agent's ``td`` series."""
    values: dict[str, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for line in (RUN / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["tag"] == tag:
            agent, seed = record["series"].rsplit("/td/s", 1)
            values[agent][int(seed)][record["step"]] = record["value"]
    return values


def at(tag: str, agent: str, step: int) -> list[float]:
    """One value a seed, at ``step``."""
    return [points[step] for _, points in sorted(by_agent(tag)[agent].items())]


def interval(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, T_975_DF2 * sd / math.sqrt(n)


def beyond_intervals(high: list[float], low: list[float]) -> bool:
    """The hidden-margin check: the means differ by more than the two 95% intervals together."""
    (h, h_half), (l, l_half) = interval(high), interval(low)
    return h - l > h_half + l_half


def task_return(agent: str, task: int) -> list[float]:
    """Per seed, the mean of the last five logged returns (500 steps) of task ``task`` (from 0)."""
    out = []
    for _, points in sorted(by_agent("episode/return")[agent].items()):
        last = [v for s, v in sorted(points.items()) if task * SWITCH < s <= (task + 1) * SWITCH][-5:]
        out.append(sum(last) / len(last))
    return out


def last_common_probe() -> int:
    """The last switch every agent of every seed reached in the recording (parts.json: a part
    stopped early where the shared machine ran out of time)."""
    probe = by_agent("probe/final_loss")
    return min(max(points) for seeds in probe.values() for points in seeds.values())


def test_three_seeds_of_three_agents_met_the_same_tasks_with_the_probe_after_each():
    probe = by_agent("probe/final_loss")
    assert sorted(probe) == sorted(AGENTS)
    last = last_common_probe()
    assert last >= 2 * SWITCH  # at least two switches for every series
    for agent in AGENTS:
        assert sorted(probe[agent]) == [0, 1, 2]
        for seed in range(3):
            assert [s for s in sorted(probe[agent][seed]) if s <= last] == list(range(0, last + 1, SWITCH))
    marks = by_agent("task/index")
    for agent in AGENTS:
        for seed in range(3):
            assert {s: v for s, v in marks[agent][seed].items() if s <= last} == {k * SWITCH: float(k) for k in range(last // SWITCH + 1) if k * SWITCH < STEPS}
    # the same seed, the same initial network for plain and ReDo (ReDo has not acted at step 0)
    assert at("probe/final_loss", "plain", 0) == at("probe/final_loss", "redo", 0)


def test_plain_dqn_loses_plasticity_switch_after_switch():
    """Issue #29's first half: the plain agent's probe loss after the last switch is above its
    loss after the first, by more than both intervals, and its mean rises at every switch."""
    last = max(by_agent("probe/final_loss")["plain"][0])
    assert last == STEPS  # the plain and layer-norm part ran to its end
    assert beyond_intervals(at("probe/final_loss", "plain", last), at("probe/final_loss", "plain", SWITCH))
    means = [interval(at("probe/final_loss", "plain", step))[0] for step in range(SWITCH, last + 1, SWITCH)]
    assert means == sorted(means)
    assert means[-1] > 0.5 > means[0]  # from better than half-way to no better than half the target's variance


def test_layer_norm_and_redo_keep_their_units_alive():
    """What the two methods do reduce at this scale: the plain agent's dead units grow switch after
    switch, layer norm's and ReDo's stay few, beyond the intervals."""
    plain_dead = [interval(at("units/dead_fraction", "plain", s))[0] for s in (SWITCH, STEPS)]
    assert plain_dead[1] > plain_dead[0]
    assert beyond_intervals(at("units/dead_fraction", "plain", STEPS), at("units/dead_fraction", "layer_norm", STEPS))
    last = last_common_probe()
    assert beyond_intervals(at("units/dead_fraction", "plain", last), at("units/dead_fraction", "redo", last))
    assert interval(at("units/dead_fraction", "redo", last))[0] < 0.01  # recycled as they die


def test_at_quick_scale_neither_method_lowers_the_probe_loss():
    """Issue #29's second half does NOT appear at this scale, and the file's comment says so: after
    the last switch, layer norm's probe loss is within the intervals of plain's, and ReDo's is not
    below plain's. (Re-recorded at a scale where it appears, this test fails: update the comment.)"""
    plain, norm = at("probe/final_loss", "plain", STEPS), at("probe/final_loss", "layer_norm", STEPS)
    assert not beyond_intervals(plain, norm) and not beyond_intervals(norm, plain)
    last = last_common_probe()
    assert not beyond_intervals(at("probe/final_loss", "plain", last), at("probe/final_loss", "redo", last))
    assert beyond_intervals(at("probe/final_loss", "redo", last), at("probe/final_loss", "plain", last))  # ReDo: higher
    # the baseline-relative measure favours plain: layer norm's step-0 probe loss is far lower
    assert beyond_intervals(at("probe/plasticity_loss", "layer_norm", STEPS), at("probe/plasticity_loss", "plain", STEPS))
