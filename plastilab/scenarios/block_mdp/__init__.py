"""The block-MDP scenario (paper §3.1-3.3): DQN agents on a Markov decision process whose states
are images, their plasticity measured as they train (and, continual, as the task switches)."""

from plastilab.core.kind import SmokeRun, kind_in_package

KIND = kind_in_package(
    __name__,
    "block_mdp",
    schema="BlockMDPConfig",
    runner="run_block_mdp",
    smoke=SmokeRun("block-mdp-tiny.toml", ("training.total_steps=150", "instruments.hessian.every=150", "instruments.covariance.every=0")),
    timing=SmokeRun("block-mdp-aligned-quick.toml", ("training.total_steps=3000",)),
    population=f"{__name__}.population",
)
