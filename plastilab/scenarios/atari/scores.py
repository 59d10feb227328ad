"""Published random-agent and human scores per game, for the human-normalised score.

    human_normalized = (score - random) / (human - random)

The numbers are the table of Badia et al. (2020), "Agent57: Outperforming the Atari Human
Benchmark" (ICML), Appendix H (random and human columns), which updates the human scores of
Mnih et al. (2015, Nature) and is the table the Atari-100k literature and Agarwal et al. (2021,
the ``rliable`` library) normalise with. Here: the 26 games of Atari 100k (Kaiser et al. 2020)
and Space Invaders. Pure data, no torch: ``plastilab validate`` checks a file's games against it.
"""

from __future__ import annotations

RANDOM_SCORES: dict[str, float] = {
    "Alien": 227.8, "Amidar": 5.8, "Assault": 222.4, "Asterix": 210.0, "BankHeist": 14.2,
    "BattleZone": 2360.0, "Boxing": 0.1, "Breakout": 1.7, "ChopperCommand": 811.0,
    "CrazyClimber": 10780.5, "DemonAttack": 152.1, "Freeway": 0.0, "Frostbite": 65.2,
    "Gopher": 257.6, "Hero": 1027.0, "Jamesbond": 29.0, "Kangaroo": 52.0, "Krull": 1598.0,
    "KungFuMaster": 258.5, "MsPacman": 307.3, "Pong": -20.7, "PrivateEye": 24.9, "Qbert": 163.9,
    "RoadRunner": 11.5, "Seaquest": 68.4, "SpaceInvaders": 148.0, "UpNDown": 533.4,
}

HUMAN_SCORES: dict[str, float] = {
    "Alien": 7127.7, "Amidar": 1719.5, "Assault": 742.0, "Asterix": 8503.3, "BankHeist": 753.1,
    "BattleZone": 37187.5, "Boxing": 12.1, "Breakout": 30.5, "ChopperCommand": 7387.8,
    "CrazyClimber": 35829.4, "DemonAttack": 1971.0, "Freeway": 29.6, "Frostbite": 4334.7,
    "Gopher": 2412.5, "Hero": 30826.4, "Jamesbond": 302.8, "Kangaroo": 3035.0, "Krull": 2665.5,
    "KungFuMaster": 22736.3, "MsPacman": 6951.6, "Pong": 14.6, "PrivateEye": 69571.3,
    "Qbert": 13455.0, "RoadRunner": 7845.0, "Seaquest": 42054.7, "SpaceInvaders": 1668.7,
    "UpNDown": 11693.2,
}

GAMES = tuple(sorted(RANDOM_SCORES))


def human_normalized(game: str, score: float) -> float:
    """0 is a uniformly random policy, 1 the human tester's score."""
    random = RANDOM_SCORES[game]
    return (score - random) / (HUMAN_SCORES[game] - random)
