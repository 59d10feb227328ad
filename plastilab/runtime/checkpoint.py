"""Checkpoints: a run's whole state saved into its folder every N steps, and resuming from it.
(One format's write, open, check and rewind together, so the rules that make a resume exact sit in
one file; the zip and entry checks, the scenario match and the claim live in their own modules.)

A scenario with ``checkpoint_every = N`` hands its runner a ``Checkpoints``; the runner saves
after every step divisible by N, once that step's events are written, and, when resumed, takes
its state back where its loop begins:

    state = ctx.checkpoints.take() if ctx.checkpoints else None   # None: a fresh start
    ...restore from state, or start as usual...
    for step in range(first, last + 1):
        ...the step, its events yielded...
        if ctx.checkpoints is not None and ctx.checkpoints.due(step):
            ctx.checkpoints.save(step, {"step": step, "model": model.state_dict(), ...})

Everything else is here, once for every kind: the random streams every run shares (torch, numpy,
Python's ``random``; the runner saves the generators it owns), the size of metrics.jsonl,
arrays.jsonl and log.jsonl at the checkpoint (a resumed run cuts them back to it, so the lines
written after the checkpoint and before the kill are written once, not twice), fsync of the
data the checkpoint vouches for, and an atomic write (temporary file, then rename: a kill
mid-write leaves the previous checkpoint). Only the latest checkpoint is kept.

A checkpoint holds tensors, numbers, text and lists and dicts of them, nothing else, and is
loaded with ``torch.load(weights_only=True)``: a file holding any other object is refused, so
a run folder from elsewhere cannot run code when resumed. Random states that are not tensors
(numpy's, Python's) are stored as JSON text.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastilab.core.errors import PlastilabError
from plastilab.core.random_state import global_rng_state, set_global_rng_state
from plastilab.runtime.checkpoint_checks import DATA_FILES, KIND_WORDS, RESUME_LOCK, unsafe_entry, zip_damage
from plastilab.runtime.checkpoint_match import WHOLE, scenario_change, tail_digest
from plastilab.rundir import claims, layout, safe_files, state

CHECKPOINT = layout.CHECKPOINT
FORMAT = 1
RESUMABLE_STATES = ("interrupted", state.ABANDONED, "failed")


class CheckpointError(PlastilabError):
    """A run folder cannot be resumed, or a checkpoint cannot be written; the line says why."""

    exit_code = 2


# -- saving -------------------------------------------------------------------------------------
class _Shared:
    """What every view of one run's checkpoints shares: the folder, the period, the payload a
    resumed run has not taken yet, and how much of arrays.jsonl is already synced."""

    def __init__(self, run_dir: Path, every: int, resumed: dict[str, Any] | None, scenario: str | None) -> None:
        self.run_dir = run_dir
        self.every = every
        self.resumed = resumed
        self.scenario = scenario
        self.arrays_synced = int(resumed["files"][layout.ARRAYS]) if resumed else 0


class Checkpoints:
    """A run's checkpoints, as its runner sees them (see the module's docstring).

    ``position`` names a part of a run that runs its steps again from 1 (a kind that runs its
    seeds one after another: ``within(seed_index=i)``); a checkpoint records it, and only the
    view at the same position takes a resumed state back. ``scenario`` is the run's resolved
    scenario (``scenario_text``): a checkpoint records it, and a resume whose scenario.toml no
    longer matches it is refused (``scenario_change``).
    """

    def __init__(self, run_dir: str | Path, every: int, resumed: dict[str, Any] | None = None, scenario: str | None = None) -> None:
        self._shared = _Shared(Path(run_dir), every, resumed, scenario)
        self.position: dict[str, int] = {}

    @property
    def every(self) -> int:
        return self._shared.every

    @property
    def resuming(self) -> bool:
        """A resumed state is waiting to be taken."""
        return self._shared.resumed is not None

    @property
    def resumed_step(self) -> int | None:
        """The step of the checkpoint being resumed (None when none is waiting)."""
        return int(self._shared.resumed["step"]) if self._shared.resumed else None

    @property
    def resumed_position(self) -> dict[str, int]:
        """The position of the checkpoint being resumed ({} when none is waiting)."""
        return dict(self._shared.resumed["position"]) if self._shared.resumed else {}

    def within(self, **position: int) -> Checkpoints:
        view = Checkpoints.__new__(Checkpoints)
        view._shared = self._shared
        view.position = {**self.position, **position}
        return view

    def due(self, step: int) -> bool:
        return step % self._shared.every == 0

    def take(self) -> dict[str, Any] | None:
        """The runner's saved state to continue from (None: start afresh). Call it once, where
        the loop begins, after building everything: it also puts the global random streams back
        where they were at the checkpoint."""
        payload = self._shared.resumed
        if payload is None or payload["position"] != self.position:
            return None
        self._shared.resumed = None
        set_global_rng_state(payload["rng"])
        return _SavedState(payload["runner"], self._shared.run_dir / CHECKPOINT)

    def save(self, step: int, runner_state: dict[str, Any]) -> None:
        """Save ``runner_state`` (tensors, numbers, text, lists and dicts of them) as the run's
        checkpoint at ``step``. Call it after the step's events are yielded (they are on disk)."""
        import torch

        shared = self._shared
        run_dir = shared.run_dir
        path = run_dir / CHECKPOINT
        if shared.resumed is not None:
            # A runner that never took its state back started afresh in a folder that holds the
            # steps before the checkpoint: its lines would be written twice. Stop, keep the checkpoint.
            raise CheckpointError(f"{path}: the run went on without taking back the checkpoint it resumes from (position {self.position}); not saved")
        tmp = run_dir / (CHECKPOINT + ".tmp")
        try:
            files = self._sync_data()
            payload = {
                "format": FORMAT,
                "step": step,
                "position": dict(self.position),
                "files": files,
                "tails": {name: tail_digest(run_dir, name, size) for name, size in files.items()},
                "rng": global_rng_state(),
                "runner": runner_state,
                "saved": time.time(),
            }
            if shared.scenario is not None:
                payload["scenario"] = shared.scenario
                payload[WHOLE] = True
            with safe_files.create_in(run_dir, tmp.name) as f:  # a link planted as the .tmp is never followed
                torch.save(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(run_dir)
        except (OSError, RuntimeError) as exc:  # torch.save's writer says a full disk as a RuntimeError
            why = (exc.strerror or str(exc)) if isinstance(exc, OSError) else _torch_write_failure(run_dir, exc)
            safe_files.unlink_in(run_dir, tmp.name)
            raise CheckpointError(
                f"{path}: cannot write the checkpoint ({why}); the run stopped, the previous checkpoint is kept"
            ) from None
        shared.arrays_synced = files[layout.ARRAYS]

    def _sync_data(self) -> dict[str, int]:
        """The data files' sizes, forced to disk with every .npz written since the last
        checkpoint: after a power cut the checkpoint never vouches for lines that are gone."""
        run_dir = self._shared.run_dir
        sizes = {}
        for name in DATA_FILES:
            sizes[name] = _fsync_file(run_dir, name)
        for record in _array_records(run_dir, self._shared.arrays_synced, sizes[layout.ARRAYS]):
            _fsync_file(run_dir, record["file"])
        return sizes


class _SavedState(dict):
    """A runner's saved state: a key the runner needs but the checkpoint lacks (a wrapper made
    by hand, another version's) is a one-line ``CheckpointError``, not a ``KeyError``."""

    def __init__(self, saved: dict[str, Any], path: Path) -> None:
        super().__init__(saved)
        self.path = path

    def __missing__(self, key: str) -> Any:
        raise CheckpointError(
            f"{self.path}: holds no {key!r} for this kind of run (made by hand, or by another version); "
            f"it cannot be resumed: start the run again with `plastilab run {self.path.parent / layout.SCENARIO}`"
        )


def _torch_write_failure(run_dir: Path, exc: RuntimeError) -> str:
    """Why torch.save failed, in words: its zip writer reports a full disk as "unexpected pos"."""
    with contextlib.suppress(OSError):
        if shutil.disk_usage(run_dir).free < LOW_DISK_BYTES:
            return "No space left on device"
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


LOW_DISK_BYTES = 1 << 20  # less than this free after a failed write: the disk was full


def _fsync_file(run_dir: Path, name: str) -> int:
    """Force ``run_dir/name`` to disk; its size (0 when it does not exist)."""
    try:
        fd = safe_files.open_fd_in(run_dir, name)
    except FileNotFoundError:
        return 0
    try:
        os.fsync(fd)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem syncs a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _array_records(run_dir: Path, start: int, end: int) -> list[dict[str, Any]]:
    """The arrays.jsonl records between byte ``start`` and ``end`` whose file is a plain
    relative path under arrays/ (anything else is never touched)."""
    if end <= start:
        return []
    f = safe_files.open_in(run_dir, layout.ARRAYS)
    if f is None:
        return []
    try:
        with f:
            f.seek(start)
            text = f.read(end - start)
    except OSError:
        return []
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            name = record.get("file") if isinstance(record, dict) else None
            parts = Path(name).parts if isinstance(name, str) else ()
            if parts and parts[0] == layout.ARRAYS_DIR and ".." not in parts and not Path(name).is_absolute():
                records.append(record)
    return records


# -- resuming -----------------------------------------------------------------------------------
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
    import torch

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
    for record in _array_records(run_dir, files[layout.ARRAYS], _size(run_dir, layout.ARRAYS)):
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


