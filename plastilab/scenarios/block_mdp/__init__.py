"""The block-MDP scenario (paper §3.1-3.3): DQN agents on a Markov decision process whose states
are images, their plasticity measured as they train (and, continual, as the task switches)."""

from plastilab.core.kind import ScenarioKind, SmokeRun

KIND = ScenarioKind(
    name="block_mdp",
    schema=f"{__name__}.schema:BlockMDPConfig",
    runner=f"{__name__}.runner:run_block_mdp",
    presenter=f"{__name__}.presenter:PRESENTATION",
    memory=f"{__name__}.memory:estimate",
    smoke=SmokeRun("block-mdp-tiny.toml", ("training.total_steps=150", "instruments.hessian.every=150", "instruments.covariance.every=0")),
    timing=SmokeRun("block-mdp-aligned-quick.toml", ("training.total_steps=3000",)),
    population=f"{__name__}.population",
)
