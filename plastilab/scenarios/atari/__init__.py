"""The Atari scenario: DQN agents on Atari games through the Arcade Learning Environment (one game,
or a cycle of games whose switches are task changes), their plasticity measured as they train."""

from plastilab.core.kind import ScenarioKind, SmokeRun

KIND = ScenarioKind(
    name="atari",
    schema=f"{__name__}.schema:AtariConfig",
    runner=f"{__name__}.runner:run_atari",
    presenter=f"{__name__}.presenter:PRESENTATION",
    memory=f"{__name__}.memory:estimate",
    smoke=SmokeRun(
        "atari-tiny.toml",
        (
            "training.total_steps=100", "instruments.probe.every=100", "instruments.stats.every=50",
            "instruments.hessian.every=0", "instruments.covariance.every=100",
        ),
    ),
    timing=SmokeRun("atari-pong-quick.toml", ("training.total_steps=3000",)),
)
