import os
from pathlib import Path

import pytest

from paths import SCENARIOS

# Tests share two cores with nothing else; one torch thread is fastest and deterministic.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def tiny_scenario_path() -> Path:
    return SCENARIOS / "adam-tiny.toml"
