"""One student's read-only lab: a child process in a pseudo-terminal of its own.

The child (``python -m plastilab.tui.ssh_lab``) starts a new session and takes the terminal as
its controlling terminal, so the kernel does the rest: a size set on the master reaches it as
SIGWINCH, and closing the master hangs it up even if the server is killed outright.

Bytes go both ways through the event loop. While the SSH channel cannot take more (the student's
connection is slow), the master is not read: the child blocks on its own writes, so a session
holds at most one read's worth of output here, however slow the student.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import time
from pathlib import Path

READ_BYTES = 65536
MAX_PENDING_INPUT = 65536  # keys a busy lab has not read yet; more is dropped
MAX_SIDE = 1000  # columns or rows a client may ask for
TERM_GRACE_S = 1.0  # after SIGTERM, SIGKILL: a dropped connection's lab is gone within ~1 s
# The teacher's environment says nothing about a student's terminal, or their keys.
DROPPED_ENV = ("COLORTERM", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "SSH_AUTH_SOCK", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "TMUX", "TMUX_PANE", "DISPLAY", "TEXTUAL_COLOR_SYSTEM")


def clamp(value: int, default: int) -> int:
    return min(max(int(value), 1), MAX_SIDE) if value else default


def set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", clamp(rows, 24), clamp(columns, 80), 0, 0))


def lab_command(runs_dir: Path, follow: bool, memory_mb: int | None) -> list[str]:
    command = [sys.executable, "-m", "plastilab.tui.ssh_lab", str(runs_dir)]
    command += ["--follow"] if follow else []
    command += ["--memory-mb", str(memory_mb)] if memory_mb else []
    return command


def child_environment(term: str, client_env: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env["TERM"] = term or "xterm-256color"
    if client_env.get("COLORTERM") in ("truecolor", "24bit"):  # only if the student's client says so
        env["COLORTERM"] = client_env["COLORTERM"]
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class LabProcess:
    """Start with ``start()``; ``write`` keys, ``resize``; ``wait()`` returns its exit code; ``end()``."""

    def __init__(self, command: list[str], env: dict[str, str], columns: int, rows: int, on_output) -> None:
        self.command = command
        self.env = env
        self.size = (columns, rows)
        self.on_output = on_output  # called with each chunk of bytes the lab draws
        self.process: asyncio.subprocess.Process | None = None
        self.master = -1
        self.closed = asyncio.Event()  # the terminal closed: the lab exited or was ended
        self.pending = b""
        self.reading = False
        self._loop = asyncio.get_running_loop()
        self.last_activity = time.monotonic()  # the student's last key or resize (idle timeout)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        master, slave = pty.openpty()
        try:
            set_size(master, *self.size)
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=slave, stdout=slave, stderr=slave, env=self.env, start_new_session=True, close_fds=True
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # the child has its own; the master sees EOF once the child's is gone
        os.set_blocking(master, False)
        self.master = master
        self._loop = loop
        if self.closed.is_set():  # ended while it was starting (the student left at once)
            await self.end()
            return
        self.resume()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- bytes both ways ------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_BYTES)
        except BlockingIOError:
            return
        except OSError:  # EIO: no process holds the terminal any more
            data = b""
        if not data:
            self.pause()
            self.closed.set()
            return
        self.on_output(data)

    def pause(self) -> None:
        """The channel is full: stop reading, and the lab waits on its own writes."""
        if self.reading and self.master >= 0:
            self._loop.remove_reader(self.master)
        self.reading = False

    def resume(self) -> None:
        if not self.reading and self.master >= 0 and not self.closed.is_set():
            self._loop.add_reader(self.master, self._readable)
            self.reading = True

    def write(self, data: bytes) -> None:
        if self.master < 0:
            return
        self.last_activity = time.monotonic()
        had_pending = bool(self.pending)
        self.pending = (self.pending + data)[:MAX_PENDING_INPUT]
        if not had_pending:
            self._flush()

    def _flush(self) -> None:
        try:
            written = os.write(self.master, self.pending) if self.pending else 0
        except BlockingIOError:
            written = 0
        except OSError:
            self.pending = b""
            return
        self.pending = self.pending[written:]
        if self.pending:
            self._loop.add_writer(self.master, self._on_writable)

    def _on_writable(self) -> None:
        self._loop.remove_writer(self.master)
        self._flush()

    def resize(self, columns: int, rows: int) -> None:
        """The kernel tells the lab (SIGWINCH) and it redraws at the new size."""
        self.size = (columns, rows)
        self.last_activity = time.monotonic()
        if self.master >= 0:
            set_size(self.master, columns, rows)

    # -- the end --------------------------------------------------------------------------------
    async def wait(self) -> int:
        """The lab's exit code once it ended by itself (the student pressed q) or was ended."""
        await self.closed.wait()
        if self.process is not None:
            try:  # it closed its terminal because it is exiting: let it finish
                await asyncio.wait_for(self.process.wait(), TERM_GRACE_S)
            except asyncio.TimeoutError:
                pass
        return await self.end()

    async def end(self) -> int:
        """Hang up, stop its process group (SIGTERM, then SIGKILL), reap it; idempotent. Signals
        go only while the lab has not been reaped: its group id is never another process's."""
        self.pause()
        self.closed.set()
        if self.master >= 0:
            self._loop.remove_writer(self.master)
            os.close(self.master)  # hangs up the terminal: SIGHUP to the lab
            self.master = -1
        process = self.process
        if process is None:
            return 1
        if process.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), TERM_GRACE_S)
            except asyncio.TimeoutError:
                self._signal(signal.SIGKILL)
                await process.wait()
        return process.returncode or 0

    def _signal(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)  # the child leads its own session and group
        except (ProcessLookupError, PermissionError):
            pass
