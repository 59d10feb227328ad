"""One SSH session channel: the student's terminal, and nothing but the lab in it.

A shell request (what ``ssh host`` sends) starts the lab; a command (``ssh host cat /etc/passwd``,
``scp``) or a subsystem (``sftp``) is refused and logged. Without a terminal (``ssh -T``) the lab
cannot draw: the student is told to drop ``-T``.
"""

from __future__ import annotations

import asyncio
import time

import asyncssh

from plastilab.classroom.lab_process import LabProcess, child_environment
from plastilab.core.safe_text import shown


class LabSession(asyncssh.SSHServerSession):
    def __init__(self, classroom, peer: str) -> None:
        self.classroom = classroom
        self.peer = peer
        self.chan = None
        self.term: str | None = None
        self.size = (80, 24)
        self.lab: LabProcess | None = None
        self.task: asyncio.Task | None = None
        self.admitted = False

    def connection_made(self, chan) -> None:
        self.chan = chan

    # -- what the client asks for ---------------------------------------------------------------
    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.term = term_type
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.classroom.refuse(self.peer, f"a command ({shown(command, 80)!r}): the classroom runs only the lab")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        self.classroom.refuse(self.peer, f"the {shown(subsystem, 40)} subsystem: no file transfer here")
        return False

    def session_started(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    # -- the lab --------------------------------------------------------------------------------
    async def _run(self) -> None:
        chan = self.chan
        if self.term is None:
            chan.write(b"plastilab: the classroom is a full-screen program and needs a terminal; connect without -T\r\n")
            chan.exit(2)
            return
        if not self.classroom.admit(self):
            chan.write(self.classroom.full_message().encode() + b"\r\n")
            chan.exit(1)
            return
        self.admitted = True
        env = child_environment(self.term, dict(_text_env(chan.get_environment())))
        self.lab = LabProcess(self.classroom.command(), env, *self.size, on_output=self._output)
        try:
            await self.lab.start()
        except OSError as exc:
            self.classroom.log(f"{self.peer}: could not start a lab: {exc}")
            chan.write(b"plastilab: the lab could not start on the server; tell the teacher\r\n")
            self._leave()
            chan.exit(1)
            return
        self.classroom.log(f"{self.peer}: lab started (pid {self.lab.pid}, {self.size[0]}x{self.size[1]}, TERM={shown(self.term, 40)})")
        code = await self.lab.wait()
        self._leave()
        try:
            chan.exit(code & 0xFF)
        except OSError:
            pass  # the connection is already gone

    def _output(self, data: bytes) -> None:
        if self.chan is not None:
            self.chan.write(data)

    def _leave(self) -> None:
        if self.admitted:
            self.admitted = False
            self.classroom.release(self)

    # -- while it runs --------------------------------------------------------------------------
    def data_received(self, data: bytes, datatype) -> None:
        if self.lab is not None:
            self.lab.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width or 80, height or 24)
        if self.lab is not None:
            self.lab.resize(*self.size)

    def pause_writing(self) -> None:
        if self.lab is not None:
            self.lab.pause()

    def resume_writing(self) -> None:
        if self.lab is not None:
            self.lab.resume()

    def eof_received(self) -> bool:
        """The client closed its input: a lab's session ends; before the lab (``ssh -T`` with
        no input) the student is still told why there is none."""
        if self.lab is not None:
            self.end()
        return True

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # the lab's keys are its only controls

    def connection_lost(self, exc) -> None:
        self.end()
        self.chan = None

    def end(self) -> None:
        """The student left (or the server is stopping): the lab ends, within about a second."""
        if self.lab is not None:
            asyncio.get_running_loop().create_task(self.lab.end())
        elif self.task is not None and not self.task.done():
            self.task.cancel()
            if self.chan is not None:
                self.chan.close()
        self._leave()

    def idle_for(self) -> float:
        """Seconds since the student typed or resized (a live run redraws all the time, so what
        the lab draws says nothing about whether anyone is there)."""
        return time.monotonic() - self.lab.last_activity if self.lab is not None else 0.0


def _text_env(env) -> list[tuple[str, str]]:
    """The client's environment requests (bytes with ``encoding=None``) as text."""
    pairs = []
    for key, value in (env or {}).items():
        key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        value = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        pairs.append((key, value))
    return pairs
