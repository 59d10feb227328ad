"""What the DQN kinds' runners (Atari, block MDP) keep of an agent between two logs, written once:
the windowed TD loss and Q mean, the returns of the episodes finished since the last log, the
return of the episode under way, the interventions' scalars; and the scalars logged from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plastilab.agents.dqn import DQNStep
from plastilab.core.context import RunContext
from plastilab.scenarios.common import WindowedMean, add_intervention_scalars, check_finite_loss


@dataclass(kw_only=True)
class DQNWindows:
    td_loss: WindowedMean = field(default_factory=WindowedMean)  # means over the gradient steps since the last log
    q_mean: WindowedMean = field(default_factory=WindowedMean)
    window_returns: list[float] = field(default_factory=list)  # episodes finished since the last log
    return_so_far: float = 0.0  # of the episode under way (its loop's last DQNStep)
    intervened: dict[str, float] = field(default_factory=dict)  # the interventions' scalars since the last log

    def took(self, result: DQNStep) -> None:
        """One step's record into the windows (a finished episode's return is the runner's to
        keep: which return counts differs between the kinds)."""
        self.return_so_far = result.return_so_far
        if result.td_loss is not None:
            self.td_loss.add(result.td_loss)
            self.q_mean.add(result.q_mean)
        add_intervention_scalars(self.intervened, result.interventions)

    def logged(self, result: DQNStep, step: int, ctx: RunContext, *, series: str, agent: str, also: dict[str, float]) -> dict[str, float]:
        """``explore/epsilon``, then ``also``, then the windows' ``td/loss``, ``q/mean`` and
        ``episode/return``; the windows start again. A TD loss gone NaN/inf raises the line naming
        ``series`` and ``agents.<agent>.learning_rate``."""
        values = {"explore/epsilon": result.epsilon, **also}
        if self.td_loss.count:
            values["td/loss"] = self.td_loss.take()
            values["q/mean"] = self.q_mean.take()
            check_finite_loss(values["td/loss"], series=series, step=step, key=f"agents.{agent}.learning_rate", ctx=ctx, what="TD loss")
        if self.window_returns:
            values["episode/return"] = float(np.mean(self.window_returns))
        self.window_returns = []
        return values

    def load_windows(self, saved: dict) -> None:
        """The windows back from the agent's entry in a checkpoint (``intervened`` only where the
        kind keeps it: a checkpoint taken right after a log has none)."""
        self.td_loss.load_state_dict(saved["td_loss"])
        self.q_mean.load_state_dict(saved["q_mean"])
        self.window_returns = [float(r) for r in saved["window_returns"]]
        self.return_so_far = float(saved["return_so_far"])
        self.intervened = {str(k): float(v) for k, v in saved.get("intervened", {}).items()}

    def take_intervened(self) -> dict[str, float]:
        """The interventions' scalars since the last log (logged last); the window starts again."""
        taken, self.intervened = self.intervened, {}
        return taken
