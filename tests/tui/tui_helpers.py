"""Helpers for the lab's tests (async tests run through ``asyncio.run``: no plugin needed)."""

from __future__ import annotations

import asyncio
import functools
import os
import time


def run_async(test):
    """Let an ``async def`` test run under plain pytest."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


def pid_gone(pid: int) -> bool:
    """The process no longer exists (it was reaped; a zombie would still answer)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


# Generous by default: the suite must pass while other processes keep every core busy, and a
# wait ends as soon as its condition holds, so a long deadline costs nothing when all is well.
WAIT_TIMEOUT_S = 120.0


async def wait_until(pilot, predicate, timeout: float = WAIT_TIMEOUT_S, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await pilot.pause(step)


async def settle(pilot, app) -> None:
    """Wait until the open dashboard's session has ended and its last version is drawn."""
    from plastilab.tui.screens.dashboard import DashboardScreen

    def drawn() -> bool:
        screen = app.screen
        if not isinstance(screen, DashboardScreen):
            return False
        state = screen.session.state
        return state.ended and screen._drawn_version == state.version

    await wait_until(pilot, drawn)
    await pilot.pause(0.2)
