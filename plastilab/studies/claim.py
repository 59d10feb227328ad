"""One scheduler per study folder: the claim a scheduling process holds for a study's length.

A run folder has one writer (status.json names it); a study folder had none, so
``plastilab run --resume STUDY_DIR`` on a study that was still running was accepted, and the
second scheduler marked the first one's live trials ``abandoned`` and ran them again. The claim
is a file made with ``O_EXCL`` that names this process (pid and start time, as status.json does):
a second scheduler meets it and is refused in one line; a claim left by a process that died
(killed, the machine rebooted) is taken over.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from plastilab.core.errors import ScenarioError
from plastilab.rundir import claims

CLAIM = ".scheduling"


@contextlib.contextmanager
def study_claim(study_dir: Path) -> Iterator[None]:
    """Hold ``study_dir`` for this process; a one-line ``ScenarioError`` when a live process
    holds it, or when the claim's place holds something no scheduler wrote."""
    path = study_dir / CLAIM
    try:
        claims.take(study_dir, CLAIM)
    except claims.NotAClaim as exc:
        raise ScenarioError(f"{path}: {exc.kind}, not a claim plastilab writes; remove it and run again") from None
    except claims.Held as exc:
        raise ScenarioError(
            f"{study_dir}: another process (pid {exc.holder.get('pid', '?')}) is running this study right now; "
            f"wait for it, or stop it (Ctrl-C there) and resume again"
        ) from None
    except OSError as exc:
        raise ScenarioError(f"{study_dir}: cannot run the study there ({exc.strerror or exc}); make the folder writable") from None
    try:
        yield
    finally:
        claims.release(study_dir, CLAIM)
