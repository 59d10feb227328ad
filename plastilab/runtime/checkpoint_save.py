"""Checkpoints: a run's whole state saved into its folder every N steps, as its runner sees them
(resuming from one is ``runtime.resume``; the folder checks a resume makes, ``runtime.resume_checks``;
whether the folder still matches its checkpoint, ``runtime.checkpoint_match``).

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
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from plastilab.core.errors import PlastilabError
from plastilab.core.random_state import global_rng_state, set_global_rng_state
from plastilab.runtime.checkpoint_match import WHOLE, tail_digest
from plastilab.rundir import layout, safe_files

CHECKPOINT = layout.CHECKPOINT
FORMAT = 1
DATA_FILES = (layout.METRICS, layout.ARRAYS, layout.LOG)  # the files a checkpoint records the size of


class CheckpointError(PlastilabError):
    """A run folder cannot be resumed, or a checkpoint cannot be written; the line says why."""

    exit_code = 2


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
        import torch  # deferred: the launcher and the lab import this module, and need no torch

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
        for record in array_records(run_dir, self._shared.arrays_synced, sizes[layout.ARRAYS]):
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


def array_records(run_dir: Path, start: int, end: int) -> list[dict[str, Any]]:
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
