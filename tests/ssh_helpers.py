"""The SSH classroom with real clients: ``plastilab serve --ssh`` as a process, Debian's OpenSSH
client (``ssh``, ``sftp``, ``scp``, ``ssh-keygen``) as the students, each in a tmux pane of its
own size, read back with ``tmux capture-pane``.

Without asyncssh, ssh or tmux the tests skip and say what to install. Every wait polls a condition
against a generous deadline (a busy machine is slow, never wrong). Host keys, known_hosts and the
students' keys live in the test's temporary folder; tmux runs on its own socket there.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from browser_helpers import descendants, end_processes, free_port, gone

WAIT_S = 240.0
POLL_S = 0.2
USER = "student"


def tools_or_skip() -> None:
    """Skip, naming what is missing and how to get it, unless every piece is here."""
    pytest.importorskip("asyncssh", reason="SSH classroom tests skipped: asyncssh is not installed (pip install -e '.[ssh]')")
    for tool, package in (("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"), ("sftp", "openssh-client"), ("scp", "openssh-client"), ("tmux", "tmux")):
        if shutil.which(tool) is None:
            pytest.skip(f"SSH classroom tests skipped: no {tool} on PATH (apt-get install {package})")


def new_key(folder: Path, name: str) -> Path:
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path


def wait_until(condition, what: str, timeout: float = WAIT_S, show=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{show()}")


# -- the server --------------------------------------------------------------------------------------
@dataclass
class SSHClassroom:
    """``plastilab serve --ssh --watch RUNS`` in its own process, in ``home`` (its config folder
    too), as a teacher would start it there: ``--watch runs``."""

    home: Path
    runs: Path
    args: tuple[str, ...] = ()
    port: int = 0
    process: subprocess.Popen | None = None
    fingerprint: str = ""
    password: str = ""
    log_path: Path = field(init=False)
    known_hosts: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.home / "serve-ssh.log"
        self.known_hosts = self.home / "known_hosts"

    def env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / "config")}

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self) -> "SSHClassroom":
        for _ in range(3):  # a port taken between free_port() and the bind: another one
            self.port = free_port()
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "plastilab", "serve", "--ssh", "--watch", os.path.relpath(self.runs, self.home), "--port", str(self.port), *self.args],
                    cwd=self.home, env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            started = wait_until(lambda: "students type:" in self.log() or self.process.poll() is not None, "the server to start", show=self.log)
            if started and self.process.poll() is None:
                break
            if "already in use" not in self.log():
                raise AssertionError(f"plastilab serve --ssh did not start; its output:\n{self.log()}")
        found = re.search(r"host key fingerprint: (\S+)", self.log())
        self.fingerprint = found.group(1) if found else ""
        found = re.search(r"classroom password: (\S+)", self.log())
        self.password = found.group(1) if found else ""
        public = (self.home / "config" / "plastilab" / "ssh_host_ed25519_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")
        return self

    def labs(self) -> list[int]:
        """The students' lab processes the server has now."""
        if self.process is None:
            return []
        found = []
        for pid in descendants(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"plastilab.tui.ssh_lab" in command and not gone(pid):
                found.append(pid)
        return found

    def ssh(self, key: Path | None, *options: str, command: str | None = None, program: str = "ssh") -> list[str]:
        """A student's ``ssh`` (or ``sftp``/``scp``: ``program``, options and the target left to
        the caller) command line to this server, checking its host key against known_hosts."""
        identity = ["-o", "IdentitiesOnly=yes", "-i", str(key)] if key is not None else ["-o", "PubkeyAuthentication=no"]
        common = [program, "-F", "/dev/null", *identity, "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"]
        if program != "ssh":
            return [*common, "-P", str(self.port), *options]
        return [*common, "-p", str(self.port), *options, f"{USER}@127.0.0.1", *([command] if command else [])]

    def stop(self) -> None:
        if self.process is None:
            return
        tree = descendants(self.process.pid)
        end_processes([self.process.pid])
        self.process.wait(timeout=30)
        end_processes([pid for pid in tree if not gone(pid)])

    def __enter__(self) -> "SSHClassroom":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the students' terminals --------------------------------------------------------------------------
class Terminals:
    """tmux on its own socket: each student a session of a given size, running one command."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "tmux.sock"

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-S", str(self.socket), "-f", "/dev/null", *args], capture_output=True, text=True, check=check)

    def open(self, name: str, command: list[str], columns: int = 80, rows: int = 24, env: dict[str, str] | None = None) -> None:
        line = " ".join(_quote(part) for part in ["env", "TERM=xterm-256color", *[f"{k}={v}" for k, v in (env or {}).items()], *command])
        self.tmux("new-session", "-d", "-x", str(columns), "-y", str(rows), "-s", name, line)

    def screen(self, name: str) -> str:
        result = self.tmux("capture-pane", "-p", "-J", "-t", name, check=False)  # -J: wrapped lines joined
        return result.stdout if result.returncode == 0 else ""

    def colours(self, name: str) -> str:
        """The screen with its colours as escape sequences (``capture-pane -e``)."""
        return self.tmux("capture-pane", "-p", "-e", "-t", name, check=False).stdout

    def alive(self, name: str) -> bool:
        return self.tmux("has-session", "-t", name, check=False).returncode == 0

    def press(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        self.tmux("send-keys", "-t", name, "-l", text)

    def resize(self, name: str, columns: int, rows: int) -> None:
        self.tmux("resize-window", "-t", name, "-x", str(columns), "-y", str(rows))

    def close(self, name: str) -> None:
        self.tmux("kill-session", "-t", name, check=False)

    def wait_for(self, name: str, condition, what: str, timeout: float = WAIT_S) -> str:
        found = wait_until(lambda: (lambda text: text if condition(text) else "")(self.screen(name)), f"{what} on {name}'s screen", timeout, show=lambda: self.screen(name))
        return found

    def end(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# -- the teacher's run: a real run-folder writer in another process, fed steps on stdin ---------------
WRITER = textwrap.dedent(
    """
    import sys
    from plastilab.core.events import RunFinished, RunStarted, Scalars, TaskBoundary
    from plastilab.core.scenario_file import load_scenario
    from plastilab.rundir.writer import RunFolderWriter

    run_dir, scenario_path = sys.argv[1], sys.argv[2]
    writer = RunFolderWriter(run_dir, load_scenario(scenario_path), command=["writer"])
    writer.handle(RunStarted("adam-tiny", "adam_instability", ("adam-default", "sgd"), 100, "cpu", 0, run_dir))
    writer.handle(TaskBoundary(0, 0))
    step = 0

    def steps(n):
        global step
        for _ in range(n):
            step += 10
            for i, name in enumerate(("adam-default", "sgd")):
                writer.handle(Scalars(step, name, {"train/loss": 2.0 / step + i, "train/accuracy": 0.5 + step / 250}, 1000.0 + step))

    steps(2)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "more":
            steps(3)
            print("ok", flush=True)
        elif line.strip() == "end":
            writer.handle(RunFinished(step))
            print("ok", flush=True)
            break
    """
)


def start_writer(run_dir: Path, scenario: Path) -> subprocess.Popen:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run_dir), str(scenario)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    return writer


def tell(writer: subprocess.Popen, line: str) -> None:
    writer.stdin.write(line + "\n")
    writer.stdin.flush()
    assert writer.stdout.readline().strip() == "ok"


def shows_step(step: int):
    return lambda screen: re.search(rf"step\s+{step} / 100\b", screen) is not None


def kill_quietly(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
