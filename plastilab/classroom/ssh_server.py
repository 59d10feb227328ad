"""``plastilab serve --ssh --watch RUNS_DIR``: the read-only lab over SSH, for a classroom.

Students type one ``ssh`` command; each connection gets its own read-only lab (the screens of
``plastilab watch``) in its own terminal, and nothing else: no shell, no commands, no file
transfer, no port, agent or X11 forwarding. Every refusal is logged here, on the teacher's side.

Built on asyncssh (the ``ssh`` extra). One event loop serves every connection; each lab is a
child process (``lab_process.py``), ended when its connection drops and when the server stops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from plastilab.classroom.host_key import fingerprint
from plastilab.classroom.lab_process import lab_command
from plastilab.classroom.ssh_access import MAX_AUTH_ATTEMPTS, Access
from plastilab.core.errors import PlastilabError
from plastilab.core.loopback import is_loopback
from plastilab.core.safe_text import shown

IDLE_CHECK_S = 5.0
LOGIN_TIMEOUT_S = 60  # to authenticate
KEEPALIVE_S, KEEPALIVE_MISSES = 15, 4  # a client gone without a word is noticed within a minute
SPARE_CONNECTIONS = 20  # connections beyond the session cap (authenticating, or told it is full)


class ClassroomError(PlastilabError):
    exit_code = 2


@dataclass(frozen=True)
class ClassroomSettings:
    runs_dir: Path
    host: str
    port: int
    access: Access
    max_sessions: int = 50
    idle_timeout_s: float = 7200.0
    follow: bool = False
    memory_mb: int | None = 2048


def import_asyncssh():
    """asyncssh, or a one-line error naming the extra that installs it."""
    with warnings.catch_warnings():  # cryptography warns about DSA on import; not ours to show
        warnings.simplefilter("ignore")
        try:
            import asyncssh  # deferred: pulls in asyncssh
        except ImportError:
            raise ClassroomError("serve --ssh: needs the asyncssh package; install it with pip install 'plastilab[ssh]'") from None
    return asyncssh


class Classroom:
    """What every connection shares: the settings, the sessions in the room, the log."""

    def __init__(self, settings: ClassroomSettings) -> None:
        self.settings = settings
        self.sessions: set = set()
        self.connections: set = set()

    def log(self, text: str) -> None:
        print(f"plastilab: {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    def refuse(self, peer: str, what: str) -> None:
        self.log(f"{peer}: refused {what}")

    def command(self) -> list[str]:
        s = self.settings
        return lab_command(s.runs_dir, s.follow, s.memory_mb)

    def admit(self, session) -> bool:
        if len(self.sessions) >= self.settings.max_sessions:
            self.log(f"{session.peer}: turned away: the classroom is full ({self.settings.max_sessions} sessions)")
            return False
        self.sessions.add(session)
        return True

    def release(self, session) -> None:
        if session in self.sessions:
            self.sessions.discard(session)
            self.log(f"{session.peer}: left ({len(self.sessions)} in the classroom)")

    def full_message(self) -> str:
        n = self.settings.max_sessions
        return f"plastilab: the classroom is full ({n} students are watching); ask the teacher, or try again later"

    async def check_idle(self) -> None:
        """Ends sessions where nothing was typed for the idle timeout (a lesson's length by default:
        a student may watch the teacher's view without a key for an hour)."""
        while True:
            await asyncio.sleep(IDLE_CHECK_S)
            for session in list(self.sessions):
                if session.idle_for() > self.settings.idle_timeout_s:
                    self.log(f"{session.peer}: idle for {self.settings.idle_timeout_s:.0f} s; ending the session")
                    session.end()

    async def close(self) -> None:
        """Every lab ends (in parallel), then every connection."""
        labs = [session.lab for session in list(self.sessions) if session.lab is not None]
        await asyncio.gather(*(lab.end() for lab in labs), return_exceptions=True)
        for connection in list(self.connections):
            connection.close()


def make_connection_class(asyncssh):
    from plastilab.classroom.ssh_session import LabSession  # deferred: pulls in asyncssh

    class ClassroomConnection(asyncssh.SSHServer):
        """One client connection: who it is, whether it may enter, what it may open."""

        def __init__(self, classroom: Classroom) -> None:
            self.classroom = classroom
            self.access = classroom.settings.access
            self.conn = None
            self.peer = "?"
            self.failures = 0
            self.opened = 0

        def connection_made(self, conn) -> None:
            self.conn = conn
            host, port = (conn.get_extra_info("peername") or ("?", 0))[:2]
            self.peer = f"{host}:{port}"
            room = self.classroom
            room.connections.add(conn)
            if len(room.connections) > room.settings.max_sessions + SPARE_CONNECTIONS:
                room.log(f"{self.peer}: turned away: too many connections")
                asyncio.get_running_loop().call_soon(conn.close)

        def connection_lost(self, exc) -> None:
            self.classroom.connections.discard(self.conn)

        # -- who may enter ----------------------------------------------------------------------
        def begin_auth(self, username: str) -> bool:
            return not self.access.open  # False: in without a key or password (--no-auth)

        def public_key_auth_supported(self) -> bool:
            return self.access.keys is not None

        def validate_public_key(self, username: str, key) -> bool:
            host = self.conn.get_extra_info("peername")[0]
            if self.access.key_allowed(key, host, host):
                return True
            self._failed(f"key {key.get_fingerprint('sha256')}")
            return False

        def password_auth_supported(self) -> bool:
            return self.access.password is not None

        def validate_password(self, username: str, password: str) -> bool:
            if self.access.check_password(password):
                return True
            self._failed("password")
            return False

        def _failed(self, what: str) -> None:
            self.failures += 1
            self.classroom.log(f"{self.peer}: wrong {what} ({self.failures} of {MAX_AUTH_ATTEMPTS} tries)")
            if self.failures >= MAX_AUTH_ATTEMPTS:
                self.classroom.log(f"{self.peer}: too many authentication attempts; disconnected")
                asyncio.get_running_loop().call_soon(self.conn.disconnect, asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication attempts")

        def auth_completed(self) -> None:
            self.classroom.log(f"{self.peer}: in")

        # -- what it may open: one session, nothing else ------------------------------------------
        def session_requested(self):
            if self.opened:
                self.classroom.refuse(self.peer, "a second session on one connection")
                return False
            self.opened += 1
            return LabSession(self.classroom, self.peer)

        def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int):
            self.classroom.refuse(self.peer, f"port forwarding to {shown(dest_host, 80)}:{dest_port} (ssh -L)")
            raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "the classroom forwards nothing")

        def server_requested(self, listen_host: str, listen_port: int):
            self.classroom.refuse(self.peer, f"remote port forwarding from {shown(listen_host, 80)}:{listen_port} (ssh -R)")
            return False

        def unix_connection_requested(self, dest_path: str):
            self.classroom.refuse(self.peer, f"socket forwarding to {shown(dest_path, 80)}")
            raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "the classroom forwards nothing")

        def unix_server_requested(self, listen_path: str):
            self.classroom.refuse(self.peer, f"remote socket forwarding from {shown(listen_path, 80)}")
            return False

        def tun_requested(self, unit):
            self.classroom.refuse(self.peer, "tunnel forwarding (ssh -w)")
            return False

        def tap_requested(self, unit):
            self.classroom.refuse(self.peer, "tunnel forwarding (ssh -w)")
            return False

    return ClassroomConnection


class DeniedRequests(logging.Handler):
    """asyncssh itself refuses agent and X11 forwarding (both off) and logs it at INFO; this
    puts those lines, and only those, in the classroom's log."""

    def __init__(self, classroom: Classroom) -> None:
        super().__init__(logging.INFO)
        self.classroom = classroom

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: not worth a traceback
            return
        if "denied" in message and "by application" not in message:  # those: logged by the class above
            self.classroom.log(f"refused: {shown(message, 200)}")


def students_command(settings: ClassroomSettings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn() or "THIS-MACHINE"
    port = "" if settings.port == 22 else f"-p {settings.port} "
    return f"ssh {port}student@{host}"


def serve_ssh(settings: ClassroomSettings, host_key) -> None:
    """Run the classroom until Ctrl+C or SIGTERM; then every session ends."""
    asyncssh = import_asyncssh()
    if not 1 <= settings.port <= 65535:
        raise ClassroomError(f"--port {settings.port}: out of range; use 1-65535 (e.g. 2222)")
    if settings.max_sessions < 1:
        raise ClassroomError(f"--max-sessions {settings.max_sessions}: at least 1")
    asyncio.run(_serve(asyncssh, settings, host_key))


async def _serve(asyncssh, settings: ClassroomSettings, host_key) -> None:

    classroom = Classroom(settings)
    connection_class = make_connection_class(asyncssh)
    logger = logging.getLogger("asyncssh")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(DeniedRequests(classroom))
    try:
        server = await asyncssh.create_server(
            lambda: connection_class(classroom), settings.host, settings.port,
            server_host_keys=[host_key], encoding=None, line_editor=False,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            login_timeout=LOGIN_TIMEOUT_S, keepalive_interval=KEEPALIVE_S, keepalive_count_max=KEEPALIVE_MISSES,
            reuse_address=True,
        )  # fmt: skip
    except OSError as exc:
        if exc.errno == 98 or "in use" in str(exc).lower():
            raise ClassroomError(f"--port {settings.port}: already in use on {settings.host}; pick another with --port") from None
        if exc.errno == 13:
            raise ClassroomError(f"--port {settings.port}: not allowed for this user (ports below 1024 need privileges); use e.g. --port 2222") from None
        raise ClassroomError(f"--host {settings.host} --port {settings.port}: cannot listen there ({exc.strerror or exc})") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(number, stop.set)
    print_welcome(settings, fingerprint(host_key))
    idle = loop.create_task(classroom.check_idle())
    await stop.wait()
    classroom.log(f"stopping: ending {len(classroom.sessions)} session(s)")
    idle.cancel()
    server.close()
    await classroom.close()
    await server.wait_closed()


def print_welcome(settings: ClassroomSettings, host_fingerprint: str) -> None:
    def say(text: str) -> None:
        print(f"plastilab: {text}", file=sys.stderr, flush=True)

    where = f"{settings.host}:{settings.port}"
    say(f"the SSH classroom over {settings.runs_dir} is open on {where}  (Ctrl+C stops it)")
    say(f"students type:  {students_command(settings)}")
    say(f"host key fingerprint: {host_fingerprint}  (ssh asks students to confirm it on their first visit)")
    if settings.access.password:
        say(f"classroom password: {settings.access.password}")
    say(f"who may enter: {settings.access.methods()}; at most {settings.max_sessions} sessions, idle ones end after {settings.idle_timeout_s:.0f} s")
    if settings.follow:
        say("presenter mode: students follow the view of `plastilab --lead` / `plastilab watch --lead` on this folder")
    if not is_loopback(settings.host):
        say(f"warning: --host {settings.host} lets other machines reach the classroom; only the students should have the key or password")
