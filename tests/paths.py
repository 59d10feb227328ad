"""Where the checkout's files are, for tests in any folder (import this, never conftest.py:
each folder of tests may have a conftest of its own)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
TEST_DATA = REPO / "tests" / "data"
