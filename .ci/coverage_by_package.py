"""Print coverage per package of plastilab (lines and branches) from the combined .coverage data.

`make test` runs it after the suite: one row a package (plastilab/core, plastilab/tui, ...), then
the total that `fail_under` in pyproject.toml is checked against.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import coverage


def main() -> int:
    cov = coverage.Coverage()
    cov.load()
    data = cov.get_data()
    root = Path.cwd()
    # package -> [statements, missing statements, branches, missing branches]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for filename in sorted(data.measured_files()):
        path = Path(filename)
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue
        analysis = cov._analyze(filename)  # noqa: SLF001 - the public report API prints, not returns
        numbers = analysis.numbers
        package = "/".join(relative.parts[:2]) if len(relative.parts) > 2 else relative.parts[0]
        row = totals[package]
        row[0] += numbers.n_statements
        row[1] += numbers.n_missing
        row[2] += numbers.n_branches
        row[3] += numbers.n_missing_branches
    if not totals:
        print("coverage: no data (was the suite run with --cov?)")
        return 1
    width = max(len(p) for p in totals)
    print(f"\n{'package':<{width}}  {'lines':>6}  {'branches':>8}  {'missed lines':>12}")
    grand = [0, 0, 0, 0]
    for package, row in sorted(totals.items()):
        grand = [g + r for g, r in zip(grand, row)]
        print(f"{package:<{width}}  {_pct(row[0], row[1]):>6}  {_pct(row[2], row[3]):>8}  {row[1]:>12}")
    print(f"{'total':<{width}}  {_pct(grand[0], grand[1]):>6}  {_pct(grand[2], grand[3]):>8}  {grand[1]:>12}")
    combined = _pct(grand[0] + grand[2], grand[1] + grand[3])
    print(f"lines and branches together: {combined} (the floor is fail_under in pyproject.toml)")
    return 0


def _pct(total: int, missing: int) -> str:
    return f"{100 * (total - missing) / total:.1f}%" if total else "-"


if __name__ == "__main__":
    sys.exit(main())
