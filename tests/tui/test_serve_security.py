"""``plastilab serve`` is safe by default (issue 11, finding 2).

The guarded server runs in this process on 127.0.0.1 (a free port), and aiohttp's client
plays the browser, and the hostile page. The served command is a short Python one-liner, not
the lab: the door is what is tested, not what is behind it.
"""

from __future__ import annotations

import asyncio
import gc
import shlex
import socket
import sys

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hostile_helpers import assert_one_line_error, run_cli
from plastilab.tui.guarded_server import GuardedServer, ServeError, bind

TOKEN = "s3cret-token-for-tests-0123456789"
QUICK = shlex.join([sys.executable, "-c", "pass"])
HOLDS = shlex.join([sys.executable, "-c", "import time; time.sleep(5)"])


def with_server(check, command: str = QUICK, max_sessions: int = 2):
    """Run ``check(session, base_url)`` against a guarded server on 127.0.0.1."""

    async def main():
        server = GuardedServer(command, host="127.0.0.1", port=8000, token=TOKEN, max_sessions=max_sessions)
        test_server = TestServer(await server._make_app(), host="127.0.0.1")
        await test_server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                result = await asyncio.wait_for(check(session, f"127.0.0.1:{test_server.port}"), timeout=120)
            # Let every session's process end before the loop closes (a busy machine: poll).
            for _ in range(1200):
                if not server.sessions:
                    break
                await asyncio.sleep(0.05)
            return result
        finally:
            await test_server.close()
            # textual-serve leaves its finished subprocess transports to the garbage collector:
            # collect them while the loop can still close them.
            gc.collect()
            await asyncio.sleep(0.1)

    return asyncio.run(main())


async def ws_status(session: aiohttp.ClientSession, url: str, origin: str | None) -> int:
    """101 if the websocket opened (then closed at once), else the HTTP status it was refused with."""
    try:
        async with session.ws_connect(url, origin=origin) as ws:
            await ws.close()
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


def test_the_page_needs_the_token():
    async def check(session, host):
        statuses = []
        for query in ("", "?token=wrong-token-wrong-token", f"?token={TOKEN}"):
            async with session.get(f"http://{host}/{query}") as response:
                statuses.append(response.status)
                body = await response.text()
        assert f"ws://{host}/ws/{TOKEN}" in body and "0.0.0.0" not in body
        return statuses

    assert with_server(check) == [403, 403, 200]


def test_the_websocket_needs_the_token():
    async def check(session, host):
        origin = f"http://{host}"
        return [
            await ws_status(session, f"ws://{host}/ws", origin),
            await ws_status(session, f"ws://{host}/ws/wrong-token-wrong-token", origin),
        ]

    assert with_server(check) == [403, 403]


def test_a_websocket_from_a_foreign_origin_is_refused():
    async def check(session, host):
        url = f"ws://{host}/ws/{TOKEN}"
        return [
            await ws_status(session, url, "http://evil.example"),
            await ws_status(session, url, f"http://{host}.evil.example"),
            await ws_status(session, url, None),
        ]

    assert with_server(check) == [403, 403, 403]


def test_the_right_token_and_origin_open_a_session():
    async def check(session, host):
        return await ws_status(session, f"ws://{host}/ws/{TOKEN}?width=80&height=24", f"http://{host}")

    assert with_server(check) == 101


def test_a_rebound_host_name_is_refused():
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header gives it away."""

    async def check(session, host):
        port = host.rsplit(":", 1)[1]
        headers = {"Host": f"evil.example:{port}"}
        async with session.get(f"http://{host}/?token={TOKEN}", headers=headers) as response:
            return response.status

    assert with_server(check) == 400


def test_sessions_are_capped():
    async def check(session, host):
        url, origin = f"ws://{host}/ws/{TOKEN}", f"http://{host}"
        async with session.ws_connect(url, origin=origin):
            return await ws_status(session, url, origin)

    assert with_server(check, command=HOLDS, max_sessions=1) == 503


def test_a_port_in_use_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match="already in use"):
            bind("127.0.0.1", port)
        code, _, err = run_cli(capsys, "serve", "--port", str(port))
    assert_one_line_error(code, err, "in use")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--host", "999.1.1.1"], "--host"),
        (["--port", "99999"], "--port"),
        (["--port", "0"], "--port"),
        (["--port", "abc"], "--port"),
        (["--token", "short"], "--token"),
        (["--token", "has spaces in it, sixteen+"], "--token"),
        (["--max-sessions", "0"], "--max-sessions"),
    ],
)
def test_bad_serve_options_are_one_line(capsys, args, needle):
    code, _, err = run_cli(capsys, "serve", *args)
    assert_one_line_error(code, err, needle)


def test_the_default_host_is_loopback_and_others_warn(capsys, monkeypatch):
    """Only the loopback address is the default; --host 0.0.0.0 prints a warning first."""
    served = []
    monkeypatch.setattr(GuardedServer, "initialize_logging", lambda self: None)
    monkeypatch.setattr("plastilab.tui.guarded_server.web.run_app", lambda app, sock, **kw: served.append(sock.getsockname()[0]) or sock.close() or app.close())
    from plastilab.tui.launch import serve

    serve(port=free_port())
    serve(host="0.0.0.0", port=free_port())
    err = capsys.readouterr().err
    assert served == ["127.0.0.1", "0.0.0.0"]
    assert err.count("warning") == 1 and "--host 0.0.0.0" in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
