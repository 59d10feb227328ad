"""Files of one idea each: a module of plastilab/ over 300 lines says why, in one comment line at
its top (``# Over 300 lines: <the reason>``), so a long file is a decision, not an accident."""

from __future__ import annotations

import re
from pathlib import Path

from paths import REPO

LIMIT = 300
REASON = re.compile(r"^# Over 300 lines: \S.{9,}$")  # a reason of a few words, not a bare marker
HEAD = 3  # the reason stands in the first lines, where a reader opening the file sees it


def long_modules_without_a_reason(package: Path) -> list[str]:
    offenders = []
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LIMIT and not any(REASON.match(line) for line in lines[:HEAD]):
            offenders.append(f"{path.relative_to(package.parent)}: {len(lines)} lines")
    return offenders


def test_every_long_module_says_why_at_its_top():
    assert long_modules_without_a_reason(REPO / "plastilab") == []


def test_the_check_finds_a_long_module_and_accepts_its_reason(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"x{i} = {i}" for i in range(LIMIT + 1))
    (package / "long.py").write_text(body)
    (package / "short.py").write_text("x = 1\n")
    assert long_modules_without_a_reason(package) == [f"pkg/long.py: {LIMIT + 1} lines"]
    (package / "long.py").write_text("# Over 300 lines: one table of every statistic, kept together\n" + body)
    assert long_modules_without_a_reason(package) == []
    (package / "long.py").write_text("# Over 300 lines: x\n" + body)  # no reason given
    assert long_modules_without_a_reason(package) != []
