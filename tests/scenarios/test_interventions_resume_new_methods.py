"""A run with the stateful new methods (injected heads, TRAC's reference, continual backprop's
per-unit statistics, the stats' window) resumed from a checkpoint equals the uninterrupted run."""

from __future__ import annotations

import pytest

from resume_helpers import run_twice
from resume_helpers import assert_same_run

OVERRIDES = [
    "checkpoint_every=25",
    "data.n_images=100",
    "task.n_iterations=3",
    "task.steps_per_iteration=40",
    "training.log_every=10",
    "grid.n_seeds=1",
    "models.mlp.hidden=[16, 16]",
    # Stopped in the second series after its second injection (step 80): the resumed model must
    # get both injected heads back before their weights load.
    "grid.interventions=['continual_backprop+regrama', 'plasticity_injection+trac+continual_backprop', 'full_reset']",
    "interventions.continual_backprop.maturity=5",
    "interventions.continual_backprop.replacement_rate=0.05",
    "interventions.regrama.every_steps=20",
    "interventions.regrama.threshold=0.5",
    "ranking.window=1",
    "instruments.stats.every=20",
    "instruments.stats.n_examples=32",
]


@pytest.mark.timeout(600)
def test_new_methods_resumed_equal_uninterrupted(tmp_path):
    whole, resumed, saved = run_twice(
        tmp_path, "interventions-quick.toml", OVERRIDES, stop_step=110, stop_series="mlp+plasticity_injection+trac+continual_backprop/s0"
    )
    assert saved["position"] == {"series_index": 1} and saved["step"] == 100
    assert_same_run(resumed, whole)
