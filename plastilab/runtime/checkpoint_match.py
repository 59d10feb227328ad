"""Does a run folder still match its checkpoint? A checkpoint records the resolved scenario it was
made from and a digest of each data file's end at its point; a resume compares both, so an
edited scenario.toml, a checkpoint copied from another run, or a data file changed before the
checkpoint is refused in one line instead of mixing two runs in one folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from plastilab.rundir import layout

__all__ = ["FREE_KEYS", "scenario_change", "scenario_text", "tail_digest"]


# Top-level keys a resume may change: they change no number (threads: a resume may choose another
# count with --threads; checkpoint_every: saving draws no random number; the rest are words).
FREE_KEYS = ("threads", "checkpoint_every", "description", "watch_for", "estimated_cpu_seconds")


def scenario_text(resolved: dict[str, Any]) -> str:
    """The resolved scenario (``resolved_dict``) as a checkpoint records it: JSON, keys sorted,
    without the ``FREE_KEYS``."""
    return json.dumps({k: v for k, v in resolved.items() if k not in FREE_KEYS}, sort_keys=True)


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
    if isinstance(then, dict):
        then = {k: v for k, v in then.items() if k not in FREE_KEYS}
    now = json.loads(scenario_text(resolved))
    if then == now:
        return None
    key = _first_difference(then, now) if isinstance(then, dict) else "?"
    path = run_dir / layout.SCENARIO
    return (
        f"{path}: changed since the checkpoint was saved ({key}: {_shown(_at(then, key))} then, {_shown(_at(now, key))} now), "
        f"or {layout.CHECKPOINT} comes from another run; put {key} back as it was to resume, or start a new run with "
        f"`plastilab run {path}`"
    )


def _first_difference(then: Any, now: Any, prefix: str = "") -> str:
    if isinstance(then, dict) and isinstance(now, dict):
        for key in sorted(set(then) | set(now)):
            if then.get(key, _MISSING) != now.get(key, _MISSING):
                return _first_difference(then.get(key, _MISSING), now.get(key, _MISSING), f"{prefix}{key}.")
    return prefix.rstrip(".") or "?"


_MISSING = object()


def _at(tree: Any, key: str) -> Any:
    for part in key.split("."):
        tree = tree.get(part, _MISSING) if isinstance(tree, dict) else _MISSING
    return tree


def _shown(value: Any) -> str:
    return "absent" if value is _MISSING else json.dumps(value)[:60]


TAIL_BYTES = 4096  # the end of a data file a checkpoint fingerprints


def tail_digest(path: Path, size: int) -> str:
    """A digest of the ``TAIL_BYTES`` of ``path`` before byte ``size``: a file edited before
    that point (a line added, removed or changed near it) no longer matches. Cheap at any size."""
    start = max(0, size - TAIL_BYTES)
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(size - start)
    except OSError:
        data = b""
    return hashlib.sha256(data).hexdigest()
