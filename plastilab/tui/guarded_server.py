"""``plastilab serve``: textual-serve's server behind a door that a web page cannot open.

Every browser session starts a lab process that can start training runs, so the door checks,
in this order:

* the Host header names this server (a DNS-rebinding page, served from evil.example and
  pointed at 127.0.0.1, sends ``Host: evil.example`` and is turned away);
* the secret token: the page wants ``/?token=…``, the websocket ``/ws/<token>`` (the page hands
  the browser that address; textual's script appends ``?width=…`` to it, so the token goes in
  the path); compared in constant time;
* the websocket's Origin header is this server's own origin (a page elsewhere cannot open it,
  even one that guessed the port);
* at most ``max_sessions`` sessions at once (each is a process);
* a sane terminal size.

The page is plastilab's own template (``web/app_index.html``), not textual-serve's, which asks
Google for its font: every resource it names, the font included, comes from this server, and its
Content-Security-Policy tells the browser to fetch nothing from anywhere else.

The listening socket is bound before the event loop starts, so a port in use, a host that is
not this machine's or a port out of range is one line, not a traceback.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from plastilab.core.errors import PlastilabError
from plastilab.core.loopback import is_loopback

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_.~-]{16,128}$")
HOST_HEADER = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$")
MAX_TERMINAL_SIDE = 1000  # columns or rows a browser may ask the lab for
TEMPLATES = Path(__file__).parent / "web"  # the page; the static files stay textual-serve's


class ServeError(PlastilabError):
    exit_code = 2


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_token(token: str) -> str:
    if not TOKEN_PATTERN.match(token):
        raise ServeError("--token: use 16 to 128 characters from A-Z a-z 0-9 - _ . ~ (it goes in a URL)")
    return token


def is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def url_host(host: str) -> str:
    """``host`` as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a one-line ``ServeError`` saying why not."""
    if not 1 <= port <= 65535:
        raise ServeError(f"--port {port}: out of range; use 1-65535 (e.g. 8000)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ServeError(f"--host {host}: not an address or a name this machine can resolve ({reason}); e.g. --host 127.0.0.1") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == 98 or "in use" in str(exc).lower():
            raise ServeError(f"--port {port}: already in use on {host}; pick another with --port") from None
        if exc.errno == 13:
            raise ServeError(f"--port {port}: not allowed for this user (ports below 1024 need privileges); use e.g. --port 8000") from None
        raise ServeError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock


class GuardedServer(Server):
    """textual-serve's ``Server`` with a token, an Origin check and a cap on sessions."""

    def __init__(self, command: str, *, host: str, port: int, token: str, max_sessions: int, title: str = "plastilab") -> None:
        super().__init__(command, host=host, port=port, title=title, templates_path=TEMPLATES)
        if max_sessions < 1:
            raise ServeError(f"--max-sessions {max_sessions}: at least 1")
        self.token = check_token(token)
        self.max_sessions = max_sessions
        self.sessions = 0

    # -- the checks ---------------------------------------------------------------------------
    def host_allowed(self, request: web.Request) -> bool:
        """The Host header is well formed and, unless the server listens everywhere, one of
        the names of the address it listens on."""
        header = request.host or ""
        if not HOST_HEADER.match(header):
            return False
        name = header.rsplit(":", 1)[0] if not header.endswith("]") else header
        name = name.strip("[]").lower()
        if is_wildcard(self.host):
            return True
        if is_loopback(self.host):
            return is_loopback(name)
        return name == self.host.strip("[]").lower()

    def token_ok(self, given: str | None) -> bool:
        return isinstance(given, str) and secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def origin_ok(self, request: web.Request) -> bool:
        """The websocket was opened by a page of this server (same scheme, host and port)."""
        origin = request.headers.get("Origin")
        return origin is not None and origin.lower() == f"{request.scheme}://{request.host}".lower()

    # -- routes -------------------------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        # The token travels in the path: the page's script appends "?width=…" to this address.
        app.router.add_get("/ws/{token}", self.handle_websocket, name="guarded-websocket")
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if not self.host_allowed(request):
            raise web.HTTPBadRequest(text="plastilab: unexpected Host header\n")
        if not self.token_ok(request.query.get("token")):
            raise web.HTTPForbidden(text="plastilab: this page needs the token printed by `plastilab serve` (open the URL it printed)\n")
        scheme = "https" if request.scheme == "https" else "http"
        base = f"{scheme}://{request.host}"  # the name the browser used: never 0.0.0.0
        context = {
            "font_size": min(max(_int(request.query.get("fontsize"), 16), 6), 64),
            "app_websocket_url": f"{'wss' if scheme == 'https' else 'ws'}://{request.host}/ws/{self.token}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        nonce = secrets.token_urlsafe(16)
        context["nonce"] = nonce
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"  # the page holds the token
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = page_policy(nonce)
        return response

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.host_allowed(request):
            raise web.HTTPBadRequest(text="plastilab: unexpected Host header\n")
        if not self.token_ok(request.match_info.get("token")):
            raise web.HTTPForbidden(text="plastilab: wrong or missing token\n")
        if not self.origin_ok(request):
            raise web.HTTPForbidden(text="plastilab: websocket from another origin refused\n")
        for side in ("width", "height"):
            if not 1 <= _int(request.query.get(side), 80) <= MAX_TERMINAL_SIDE:
                raise web.HTTPBadRequest(text=f"plastilab: {side} out of range\n")
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(text=f"plastilab: {self.max_sessions} sessions already open; close one, or restart with a higher --max-sessions\n")
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    # -- running --------------------------------------------------------------------------------
    def url(self) -> str:
        host = "127.0.0.1" if is_wildcard(self.host) else self.host
        return f"http://{url_host(host)}:{self.port}/?token={self.token}"

    async def on_startup(self, app: web.Application) -> None:
        print(f"plastilab: the lab is at {self.url()}  (Ctrl+C stops it)", file=sys.stderr, flush=True)

    def serve(self, debug: bool = False) -> None:
        """Bind first (errors are one line), then run until Ctrl+C or SIGTERM."""
        sock = bind(self.host, self.port)
        if not is_loopback(self.host):
            print(
                f"plastilab: warning: --host {self.host} makes the lab reachable from other machines; "
                "anyone with the URL and token can start runs here",
                file=sys.stderr,
            )
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(number, self.request_exit)
            except (NotImplementedError, RuntimeError):
                pass
        web.run_app(self._make_app(), sock=sock, handle_signals=False, loop=loop, print=lambda *args: None)


def page_policy(nonce: str) -> str:
    """The page may load from this server only (its websocket included: 'self' covers ws: to the
    same host). Styles may be inline because textual.js injects xterm's; the one inline script
    carries the nonce."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _int(text: Any, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
