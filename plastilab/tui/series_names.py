"""Short series names for narrow screens: one rule, so the legend and the values table agree.

A name is cut into words at ``-``, ``+``, ``_``, ``/`` and spaces; each word keeps its first
``letters`` letters and any digits after them (``adam-beta2-eps`` -> ``adam-bet2-eps`` at three
letters, ``ad-be2-ep`` at two). Words of up to four characters stay whole, so ``sgd``, ``adam``,
``mlp``, ``redo`` and ``s0`` read the same at every length. Leading words that every name shares
(``mlp+`` in a grid of one architecture) say nothing about a series and go first. The longest
names that fit win.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_WORD = re.compile(r"([-+_/ ])")
_LETTERS_THEN_DIGITS = re.compile(r"^([^\d]*)(\d*)$")
KEEP_WHOLE = 4  # words this short are never cut
LEVELS = (6, 5, 4, 3, 2, 1)  # letters a word keeps, longest first


def abbreviate(name: str, letters: int | None) -> str:
    """``name`` with each long word cut to ``letters`` letters (None: the name as it is)."""
    if letters is None:
        return name
    parts = _WORD.split(name)
    out = []
    for part in parts:
        if _WORD.fullmatch(part) or len(part) <= max(KEEP_WHOLE, letters):
            out.append(part)
            continue
        match = _LETTERS_THEN_DIGITS.match(part)
        if match and match.group(2):
            out.append(match.group(1)[:letters] + match.group(2))
        else:
            out.append(part[:letters])
    return "".join(out)


def shared_prefix(names: Sequence[str]) -> str:
    """The leading words (with their separators) that every name shares, when more than one name."""
    if len(names) < 2:
        return ""
    split = [_WORD.split(n) for n in names]
    shared = []
    for i in range(0, min(len(p) for p in split) - 1, 2):  # word, separator pairs
        pair = split[0][i : i + 2]
        if all(p[i : i + 2] == pair for p in split):
            shared.extend(pair)
        else:
            break
    return "".join(shared)


def candidates(names: Sequence[str]) -> list[dict[str, str]]:
    """Ways to show ``names``, longest first: whole, without their shared prefix, then ever shorter."""
    prefix = shared_prefix(names)
    found = [{n: n for n in names}]
    if prefix:
        found.append({n: n[len(prefix) :] for n in names})
    for letters in LEVELS:
        found.append({n: abbreviate(n[len(prefix) :], letters) for n in names})
    return [m for m in found if len(set(m.values())) == len(m)]  # two series must never read the same


def short_names(names: Sequence[str], *fits: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """The longest names that every test in ``fits`` accepts; failing that, that the first one
    accepts; failing that, the shortest."""
    options = candidates(names) or [{n: n for n in names}]
    for tests in (fits, fits[:1]):
        for mapping in options:
            if all(test(mapping) for test in tests):
                return mapping
    return options[-1]
