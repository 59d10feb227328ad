"""The Atari scenario: DQN agents on Atari games through the Arcade Learning Environment (one game,
or a cycle of games whose switches are task changes), their plasticity measured as they train."""

from plastilab.core.kind import SmokeRun, kind_in_package

KIND = kind_in_package(
    __name__,
    "atari",
    schema="AtariConfig",
    runner="run_atari",
    smoke=SmokeRun(
        "atari-tiny.toml",
        (
            "training.total_steps=100", "instruments.probe.every=100", "instruments.stats.every=50",
            "instruments.hessian.every=0", "instruments.covariance.every=100",
        ),
    ),
    timing=SmokeRun("atari-pong-quick.toml", ("training.total_steps=3000",)),
)
