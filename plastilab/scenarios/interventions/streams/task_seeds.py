"""Each task's seed, mixed from the scenario seed, the series' seed index and the iteration.

Its own module because the plain task stream (``tasks.py``) and every stream here draw from it,
and ``tasks.py`` in turn builds the streams.
"""

from __future__ import annotations

import numpy as np


def derive_seed(*parts: int) -> int:
    """A well-mixed seed from several integers (a scenario seed, a seed index, an iteration)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])
