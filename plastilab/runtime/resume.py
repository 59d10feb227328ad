"""Resuming a run from its checkpoint: whether a run folder can be resumed (in one line when not),
loading its checkpoint as plain data, cutting the folder back to it, and the claim that lets one
process at a time turn it from resumable into running. The checkpoint itself is written by
``runtime.checkpoint_save``; the rules that make a resume exact are in that module's docstring.

A checkpoint is loaded with ``torch.load(weights_only=True)``: a file holding any other object is
refused, so a run folder from elsewhere cannot run code when resumed.
"""

from __future__ import annotations

import contextlib
import io
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.runtime.checkpoint_match import scenario_change, tail_digest
from plastilab.runtime.checkpoint_save import CHECKPOINT, DATA_FILES, FORMAT, CheckpointError, array_records
from plastilab.runtime.resume_checks import KIND_WORDS, RESUME_LOCK, unsafe_entry, zip_damage
from plastilab.rundir import claims, layout, safe_files, state

RESUMABLE_STATES = ("interrupted", state.ABANDONED, "failed")


@dataclass(frozen=True)
class ResumePoint:
    """A run folder that can be resumed, and the checkpoint it resumes from."""

    run_dir: Path
    payload: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.payload["step"])


def open_resume(run_dir: str | Path, resolved: Callable[[], dict[str, Any]] | None = None) -> ResumePoint:
    """Check that ``run_dir`` can be resumed and load its checkpoint; touches nothing.

    One-line errors: not a run folder, still running, already finished, no checkpoint, a
    checkpoint that is not plain data, a scenario (``resolved()``, read from the folder's
    scenario.toml once the checkpoint is) that is not the checkpoint's, data files changed
    before the checkpoint."""
    run_dir = Path(run_dir)
    why = why_not_resumable(run_dir)
    if why is not None:
        raise CheckpointError(why)
    why = unsafe_entry(run_dir)
    if why is not None:
        raise CheckpointError(why)
    payload = load_checkpoint(run_dir)
    if resolved is not None:
        changed = scenario_change(run_dir, payload, resolved())
        if changed is not None:
            raise CheckpointError(changed)
    for name in DATA_FILES:
        saved = payload["files"][name]
        size = _size(run_dir, name)
        if size < saved:
            raise CheckpointError(
                f"{run_dir / name}: shorter than at the checkpoint ({size} bytes, expected at least {saved}); "
                f"the folder was changed after the run, so it cannot be resumed exactly: put the file back from a copy, "
                f"or start the run again with `plastilab run {run_dir / layout.SCENARIO}`"
            )
        tail = payload.get("tails", {}).get(name)
        if tail is not None and tail_digest(run_dir, name, saved) != tail:
            raise CheckpointError(
                f"{run_dir / name}: changed before the checkpoint's end (byte {saved}), so cutting it back would keep lines "
                f"the checkpoint never saw: put the file back from a copy, or start the run again with `plastilab run {run_dir / layout.SCENARIO}`"
            )
    return ResumePoint(run_dir, payload)


def why_not_resumable(run_dir: str | Path) -> str | None:
    """Why ``run_dir`` cannot be resumed, in one line; None when it can (as far as its status
    and the presence of a checkpoint tell: ``open_resume`` also reads the checkpoint).
    Cheap, and imports no torch: the lab asks it for the run under the cursor."""
    run_dir = Path(run_dir)
    if not layout.is_run_dir(run_dir):
        return f"{run_dir}: not a run folder (no status.json); --resume takes a run folder or a study folder"
    status = state.read_status(run_dir)
    word = state.state_from_status(status)
    if word == state.RUNNING:
        return f"{run_dir}: still running (pid {status.get('pid')}); stop it before resuming it"
    if word == "finished":
        return f"{run_dir}: already finished; nothing to resume"
    if word not in RESUMABLE_STATES:
        return (
            f"{run_dir / layout.STATUS}: unreadable ({word}), so whether the run ended cannot be told; if no process is running it, "
            f"write {{\"state\": \"interrupted\"}} into that file and resume again"
        )
    kind = safe_files.kind_in(run_dir, CHECKPOINT)
    if kind not in ("file", "missing"):
        return (
            f"{run_dir / CHECKPOINT}: {KIND_WORDS.get(kind, kind)}, not a checkpoint file; it cannot be resumed: "
            f"start the run again with `plastilab run {run_dir / layout.SCENARIO}`"
        )
    if kind == "missing":
        every = _checkpoint_every(run_dir)
        if every:
            return (
                f"{run_dir}: stopped at step {status.get('last_step')}, before its first checkpoint (checkpoint_every = {every}); "
                f"nothing to resume from: start it again with `plastilab run {run_dir / layout.SCENARIO}`"
            )
        return f"{run_dir}: no checkpoint: set checkpoint_every in the scenario (e.g. checkpoint_every = 1000) to make its runs resumable"
    for path in (run_dir, *(run_dir / name for name in (*DATA_FILES, layout.STATUS))):
        if path.exists() and not os.access(path, os.W_OK):
            return f"{path}: read-only; make the run folder writable (chmod -R u+w '{run_dir}') and resume again"
    return None


def _checkpoint_every(run_dir: Path) -> int:
    """The run's checkpoint_every, read from its scenario.toml (0 when absent or unreadable)."""
    data = safe_files.read_in(run_dir, layout.SCENARIO, 1 << 20)
    try:
        every = tomllib.loads(safe_files.decode(data)[0]).get("checkpoint_every", 0) if data is not None else 0
    except ValueError:
        return 0
    return every if isinstance(every, int) and not isinstance(every, bool) else 0


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """The checkpoint of ``run_dir``, loaded as plain data only (``weights_only=True``)."""
    import torch  # deferred: why_not_resumable, beside it, serves the lab without torch

    path = Path(run_dir) / CHECKPOINT
    f = safe_files.open_in(run_dir, CHECKPOINT)
    if f is None:
        raise CheckpointError(f"{run_dir}: no checkpoint: set checkpoint_every in the scenario (e.g. checkpoint_every = 1000) to make its runs resumable")
    again = f"start the run again with `plastilab run {Path(run_dir) / layout.SCENARIO}`"
    with f:
        data = io.BytesIO(f.read())
    damage = zip_damage(data)  # torch.load checks no CRC: a flipped bit would be resumed from
    if damage is not None:
        raise CheckpointError(f"{path}: damaged ({damage}); it cannot be resumed: {again}")
    try:
        payload = torch.load(data, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, it is refused in one line
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights only" not in why.lower():
            raise CheckpointError(f"{path}: damaged ({why[:120]}); it cannot be resumed: {again}") from None
        raise CheckpointError(
            f"{path}: refused: not a plain checkpoint of tensors, numbers and text ({why[:120]}); resume loads nothing else"
        ) from None
    if not (
        isinstance(payload, dict)
        and payload.get("format") == FORMAT
        and isinstance(payload.get("step"), int)
        and isinstance(payload.get("position"), dict)
        and isinstance(payload.get("files"), dict)
        and all(isinstance(payload["files"].get(name), int) and payload["files"][name] >= 0 for name in DATA_FILES)
        and isinstance(payload.get("rng"), dict)
        and isinstance(payload.get("runner"), dict)
        and isinstance(payload.get("scenario", ""), str)
        and isinstance(payload.get("tails", {}), dict)
        and all(isinstance(payload.get("tails", {}).get(name, ""), str) for name in DATA_FILES)
    ):
        raise CheckpointError(f"{path}: not a checkpoint this plastilab wrote (format {FORMAT} expected); cannot resume from it")
    return payload


def rewind(point: ResumePoint) -> None:
    """Cut the run folder back to its checkpoint: the data files to their sizes then (the lines
    written after it are written again by the resumed run), the .npz files those lines named,
    and the previous ending's summary.json and error.txt."""
    run_dir = point.run_dir
    files = point.payload["files"]
    # Each removal and cut walks from the folder without following a link (``safe_files``): a
    # link planted since the checks is removed itself or refused, never followed outside.
    for record in array_records(run_dir, files[layout.ARRAYS], _size(run_dir, layout.ARRAYS)):
        safe_files.unlink_in(run_dir, record["file"])
    for name in DATA_FILES:
        if safe_files.kind_in(run_dir, name) == "file":
            if not safe_files.truncate_in(run_dir, name, files[name]):
                raise OSError(13, "cannot cut it back", str(run_dir / name))
    for name in (layout.SUMMARY, layout.ERROR, CHECKPOINT + ".tmp"):
        safe_files.unlink_in(run_dir, name)


def _size(run_dir: Path, name: str) -> int:
    return safe_files.size_in(run_dir, name)


@contextlib.contextmanager
def resume_claim(run_dir: Path):
    """One process at a time may turn ``run_dir`` from resumable into running: inside, the
    folder is checked again (another process may have claimed it since ``open_resume``) and
    status.json is to be rewritten before the claim is let go. A claim left by a process that
    died is taken over; one held by a live process is a one-line error."""
    lock = run_dir / RESUME_LOCK
    try:
        claims.take(run_dir, RESUME_LOCK)
    except claims.NotAClaim as exc:  # a folder, a FIFO or a link: no process wrote that
        raise CheckpointError(f"{lock}: {KIND_WORDS.get(exc.kind, exc.kind)}, not a claim plastilab writes; remove it and resume again") from None
    except claims.Held as exc:
        raise CheckpointError(f"{run_dir}: another process (pid {exc.holder.get('pid')}) is resuming it right now; open the run it continues") from None
    except OSError as exc:
        raise CheckpointError(f"{run_dir}: cannot resume it: {cannot_write(run_dir, exc)}") from None
    try:
        why = why_not_resumable(run_dir)
        if why is not None:
            raise CheckpointError(why)
        yield
    finally:
        claims.release(run_dir, RESUME_LOCK)


def cannot_write(run_dir: Path, exc: OSError) -> str:
    """The end of a one-line error for a write into ``run_dir`` that failed."""
    return f"cannot write there ({exc.strerror or exc}); make the run folder writable (chmod -R u+w '{run_dir}'), or free some disk space, and resume again"


