"""A real browser on `plastilab serve`: the served lab as a process, headless Chromium driven by
Playwright, and the text of the page's terminal read from xterm.js's own buffer.

Chromium is the system's (the Debian ``chromium`` package; Playwright's own browser download needs
the internet): ``/usr/bin/chromium``, or ``PLASTILAB_CHROMIUM``. Without it, or without the
``playwright`` package, the browser tests are skipped and say why.

Every wait polls a condition against a generous deadline (a busy machine is slow, never wrong).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PLASTILAB_CHROMIUM", "/usr/bin/chromium"))
TOKEN = "browser-test-token-0123456789abcdef"
WAIT_S = 180.0  # generous: ends as soon as the condition holds
POLL_S = 0.2

# textual.js keeps its xterm.js Terminal in a closure; it stores it as ``this.terminal`` on its
# own object. Before any script runs, a setter on that property name records each Terminal (and
# then makes the property an ordinary one), so the test can read the screen through xterm's public
# buffer API. If textual.js stops naming it so, ``screen_text`` says the terminal was not found.
CAPTURE_TERMINALS = """
window.__plastilabTerminals = [];
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    try {
      if (value && value.buffer && value.buffer.active) window.__plastilabTerminals.push(value);
    } catch (error) {}
  },
});
"""

READ_SCREEN = """
() => {
  const terminal = (window.__plastilabTerminals || [])[0];
  if (!terminal) return null;
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}
"""


def chromium_or_skip() -> str:
    """The Chromium to drive, or a skip that names what is missing and how to get it."""
    pytest.importorskip("playwright.sync_api", reason="browser tests skipped: the playwright package is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium, or set PLASTILAB_CHROMIUM)")
    return str(CHROMIUM)


@contextlib.contextmanager
def headless_chromium():
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        # No GPU here: WebGL (xterm's renderer) runs on the software rasteriser.
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--enable-unsafe-swiftshader"])
        try:
            yield browser
        finally:
            browser.close()


# -- the served lab, a process tree ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the lab's training processes leave its session, not its tree)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def gone(pid: int) -> bool:
    """The process has exited (a zombie, waiting for its parent, counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def end_processes(pids: list[int], deadline_s: float = 60.0) -> None:
    """SIGTERM each (coverage saves its data on SIGTERM), then SIGKILL any still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (deadline_s if sig == signal.SIGTERM else 10.0)
        while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
            time.sleep(0.1)
        if all(gone(pid) for pid in pids):
            return


@dataclass
class ServedLab:
    """``plastilab serve`` in its own process, in ``cwd`` (its runs go under ``cwd/runs``)."""

    cwd: Path
    args: tuple[str, ...] = ()
    url: str = ""
    origin: str = ""
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.cwd / "serve.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def start(self) -> "ServedLab":
        for _ in range(3):  # a port taken between free_port() and the bind: another one
            port = free_port()
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "plastilab", "serve", "--port", str(port), "--token", TOKEN, *self.args],
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                found = re.search(r"the lab is at (\S+)", self.log())
                if found:
                    self.url = found.group(1)
                    self.origin = f"http://127.0.0.1:{port}"
                    return self
                if self.process.poll() is not None:
                    break
                time.sleep(POLL_S)
            if "already in use" not in self.log():
                break
        self.stop()
        raise AssertionError(f"plastilab serve did not start; its output:\n{self.log()}")

    def stop(self) -> None:
        """End the server and everything it started: the labs and their training processes."""
        if self.process is None:
            return
        tree = descendants(self.process.pid)
        end_processes([self.process.pid])
        self.process.wait(timeout=30)
        end_processes([pid for pid in tree if not gone(pid)] + descendants(self.process.pid))

    def __enter__(self) -> "ServedLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- a page and what went wrong on it ---------------------------------------------------------------
@dataclass
class WatchedPage:
    """A page of the served lab, with every console error, page error, failed request and
    request to another origin it had."""

    page: object
    origin: str
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        page = self.page
        page.add_init_script(CAPTURE_TERMINALS)
        page.on("console", lambda message: message.type == "error" and self.problems.append(f"console error: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url} ({request.failure})"))
        page.on("request", self._check_origin)
        page.on("response", lambda response: response.status >= 400 and self.problems.append(f"HTTP {response.status}: {response.url}"))
        page.on("websocket", lambda ws: self._check_origin(ws))

    def _check_origin(self, request) -> None:
        url = request.url
        own = (self.origin, "ws" + self.origin[len("http") :])
        if not url.startswith(("data:", *own)):
            self.problems.append(f"request elsewhere: {url}")

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="load", timeout=WAIT_S * 1000)

    def screen(self) -> str:
        text = self.page.evaluate(READ_SCREEN)
        if text is None and self.page.evaluate("document.querySelector('.xterm') !== null"):
            raise AssertionError("the page has an xterm terminal but textual.js no longer stores it as `this.terminal`: update CAPTURE_TERMINALS")
        return text or ""

    def wait_for(self, condition, what: str, timeout: float = WAIT_S) -> str:
        """Poll the terminal's text until ``condition(text)`` holds; return that text."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if condition(text):
                return text
            self.page.wait_for_timeout(POLL_S * 1000)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n{text}\nproblems: {self.problems}")

    def wait_until(self, condition, what: str, timeout: float = WAIT_S) -> None:
        """Poll ``condition()`` (a file, a state); a timeout shows what the page showed."""
        self.wait_for(lambda _: condition(), what, timeout)

    def keyboard_to_terminal(self) -> None:
        """Keys go where a user's would after clicking the terminal: xterm's input element."""
        self.page.locator(".xterm-helper-textarea").focus()

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

