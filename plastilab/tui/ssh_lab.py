"""A student's lab in an SSH classroom session: ``python -m plastilab.tui.ssh_lab RUNS_DIR``.

The SSH server (``plastilab/classroom/ssh_server.py``) starts this in a new session with a
pseudo-terminal on its standard streams. It takes that terminal as its controlling terminal
(the server then needs to send no signal itself: a new size arrives as SIGWINCH, a closed
connection as SIGHUP), caps its address space, and runs the read-only lab of ``plastilab watch``.
"""

from __future__ import annotations

import argparse
import fcntl
import resource
import termios
from pathlib import Path

from plastilab.tui.launch import watch_runs


def take_terminal() -> None:
    try:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    except OSError:
        pass  # not a session leader, or stdin is no terminal: sizes still reach the lab


def cap_memory(megabytes: int) -> None:
    """Bounded memory per session: a lab that grows past this fails alone, not the server."""
    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="plastilab.tui.ssh_lab")
    parser.add_argument("runs_dir", type=Path)
    parser.add_argument("--follow", action="store_true")
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args(argv)
    take_terminal()
    if args.memory_mb > 0:
        cap_memory(args.memory_mb)

    watch_runs(args.runs_dir, follow=args.follow)


if __name__ == "__main__":
    main()
