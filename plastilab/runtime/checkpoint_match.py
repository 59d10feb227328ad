"""Does a run folder still match its checkpoint? A checkpoint records the resolved scenario it was
made from and a digest of each data file's end at its point; a resume compares both, so an
edited scenario.toml, a checkpoint copied from another run, or a data file changed before the
checkpoint is refused in one line instead of mixing two runs in one folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from plastilab.rundir import layout, safe_files

__all__ = ["WHOLE", "difference", "scenario_change", "scenario_text", "tail_digest"]


# A checkpoint records the whole resolved scenario, and a resume compares every key: a key that
# "changes no number" still changes what is recorded (checkpoint_every = 0 made the resumed run
# start again from step 0 and append a second run to the folder; a new description is written
# into scenario.toml beside numbers made under the old one). ``--threads`` is the one way to run
# a resume differently, and it is applied after this check and recorded.
WHOLE = "scenario_whole"  # the payload key saying its scenario holds every key
# What checkpoints written before that left out of their record; compared only when present.
_LEGACY_LEFT_OUT = ("threads", "checkpoint_every", "description", "watch_for", "estimated_cpu_seconds")


def scenario_text(resolved: dict[str, Any]) -> str:
    """The resolved scenario (``resolved_dict``) as a checkpoint records it: JSON, keys sorted."""
    return json.dumps(resolved, sort_keys=True)


def scenario_change(run_dir: Path, payload: dict[str, Any], resolved: dict[str, Any]) -> str | None:
    """Why the run folder's scenario (``resolved``, read from its scenario.toml) is not the one
    its checkpoint was made from, in one line naming the first key that differs; None when it is
    (or when the checkpoint predates this record). Resuming another scenario's state would mix
    two runs in one folder, or fail half-way after the files were cut back."""
    saved = payload.get("scenario")
    if saved is None:
        return None
    try:
        then = json.loads(saved)
    except ValueError:
        then = None
    now = json.loads(scenario_text(resolved))
    if isinstance(then, dict) and not payload.get(WHOLE):
        now = {k: v for k, v in now.items() if k not in _LEGACY_LEFT_OUT}
    if then == now:
        return None
    key, old, new = difference(then, now)
    path = run_dir / layout.SCENARIO
    return (
        f"{path}: changed since the checkpoint was saved ({key}: {old} then, {new} now), "
        f"or {layout.CHECKPOINT} comes from another run; put {key} back as it was to resume, or start a new run with "
        f"`plastilab run {path}`"
    )


def difference(then: Any, now: Any) -> tuple[str, str, str]:
    """The first dotted key where two records differ, and its value in each (shown short)."""
    path = _first_difference(then, now) if isinstance(then, dict) else []
    return ".".join(path) or "?", _shown(_at(then, path)), _shown(_at(now, path))


def _first_difference(then: Any, now: Any) -> list[str]:
    if isinstance(then, dict) and isinstance(now, dict):
        for key in sorted(set(then) | set(now)):
            if then.get(key, _MISSING) != now.get(key, _MISSING):
                return [key, *_first_difference(then.get(key, _MISSING), now.get(key, _MISSING))]
    return []


_MISSING = object()


def _at(tree: Any, path: list[str]) -> Any:
    for part in path:
        tree = tree.get(part, _MISSING) if isinstance(tree, dict) else _MISSING
    return tree


def _shown(value: Any) -> str:
    return "absent" if value is _MISSING else json.dumps(value)[:60]


TAIL_BYTES = 4096  # the end of a data file a checkpoint fingerprints


def tail_digest(run_dir: Path, name: str, size: int) -> str:
    """A digest of the ``TAIL_BYTES`` of ``run_dir/name`` before byte ``size``: a file edited
    before that point (a line added, removed or changed near it) no longer matches. Cheap at any size."""
    start = max(0, size - TAIL_BYTES)
    data = b""
    f = safe_files.open_in(run_dir, name)
    if f is not None:
        with f:
            try:
                f.seek(start)
                data = f.read(size - start)
            except OSError:
                data = b""
    return hashlib.sha256(data).hexdigest()
