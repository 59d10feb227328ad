"""Fixtures of the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from resume_helpers import stopped_run


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """An adam-tiny run stopped 10 steps after its checkpoint at step 40 (never resumed: copy it)."""
    return stopped_run(tmp_path_factory.mktemp("stopped"))
