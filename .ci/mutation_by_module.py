"""Kill rate per mutated module, from `mutmut results --all true` on stdin (`make mutation`).

A mutant's name is ``<module>.x_<function>__mutmut_<n>`` (``.xǁClassǁmethod`` for a method).
The kill rate counts killed and timed-out mutants over those that were checked (a mutant no test
reaches counts as not killed: it is a gap, not an excuse).
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

NAME = re.compile(r"^\s*(?P<module>[\w.]+?)\.x(?:_|ǁ)\S*__mutmut_\d+: (?P<status>.+)$")


def main() -> int:
    by_module: dict[str, Counter] = defaultdict(Counter)
    for line in sys.stdin:
        match = NAME.match(line.rstrip("\n"))
        if match:
            by_module[match["module"]][match["status"].strip()] += 1
    if not by_module:
        print("mutation: no results (run `mutmut run` first)")
        return 1
    width = max(len(m) for m in by_module)
    print(f"{'module':<{width}}  {'mutants':>7}  {'killed':>6}  {'survived':>8}  {'no tests':>8}  {'kill rate':>9}")
    grand: Counter = Counter()
    for module, counts in sorted(by_module.items()):
        grand.update(counts)
        print(_row(module, counts, width))
    print(_row("total", grand, width))
    return 0


def _row(name: str, counts: Counter, width: int) -> str:
    killed = counts["killed"] + counts["timeout"]
    checked = sum(counts.values()) - counts["not checked"] - counts["skipped"]
    rate = f"{100 * killed / checked:.0f}%" if checked else "-"
    return f"{name:<{width}}  {sum(counts.values()):>7}  {killed:>6}  {counts['survived']:>8}  {counts['no tests']:>8}  {rate:>9}"


if __name__ == "__main__":
    sys.exit(main())
