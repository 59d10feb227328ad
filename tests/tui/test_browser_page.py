"""The page `plastilab serve` hands a browser needs nothing from the internet (issue 14).

textual-serve's own page asks Google for its font, which fails offline; plastilab serves its own
page, whose every resource comes from the server itself, and a Content-Security-Policy that forbids
the browser anything else. Checked without a browser: the page is read and each resource fetched.
"""

from __future__ import annotations

import asyncio
import re
from html.parser import HTMLParser

import aiohttp
from aiohttp.test_utils import TestServer

from plastilab.tui.guarded_server import GuardedServer

TOKEN = "s3cret-token-for-tests-0123456789"


class Resources(HTMLParser):
    """Every address the page names in a src or href attribute or a CSS url(...)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.nonces: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
            if name == "nonce":
                self.nonces.append(value)

    def handle_data(self, data):
        self.urls += re.findall(r"url\(\s*[\"']?([^\"')]+)", data)


def served_page():
    """The page's text, headers, and the status of each resource it names, from a real server."""

    async def main():
        server = GuardedServer("true", host="127.0.0.1", port=8000, token=TOKEN, max_sessions=1)
        test_server = TestServer(await server._make_app(), host="127.0.0.1")
        await test_server.start_server()
        try:
            base = f"http://127.0.0.1:{test_server.port}"
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/?token={TOKEN}") as response:
                    assert response.status == 200
                    page, headers = await response.text(), response.headers
                parser = Resources()
                parser.feed(page)
                statuses = {}
                for url in parser.urls:
                    if url.startswith(base):
                        async with session.get(url) as response:
                            await response.read()
                            statuses[url] = response.status
            return base, page, headers, parser, statuses
        finally:
            await test_server.close()

    return asyncio.run(asyncio.wait_for(main(), timeout=120))


def test_the_page_names_no_resource_outside_the_server():
    base, page, _, parser, statuses = served_page()
    assert "googleapis" not in page and "fonts.g" not in page
    outside = [u for u in parser.urls if not (u.startswith(base + "/") or u.startswith("data:"))]
    assert outside == []
    # Nor anywhere else in the text (a script's fetch, an @import): every absolute address is ours.
    addresses = re.findall(r"(?:https?|wss?)://[^\s\"'<>)]+", page)
    assert addresses and all(a.startswith((base, "ws" + base[4:])) for a in addresses), addresses
    # The stylesheet, the terminal's script and the font are all there to be fetched.
    assert any(u.endswith(".ttf") for u in statuses) and any(u.endswith("textual.js") for u in statuses)
    assert set(statuses.values()) == {200}, statuses


def test_the_page_tells_the_browser_to_fetch_only_from_here():
    _, _, headers, parser, _ = served_page()
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    for directive in ("style-src", "font-src", "img-src", "connect-src"):
        assert "http" not in policy[directive] and "*" not in policy[directive]
    # The page's one inline script carries this response's nonce, and only it may run.
    assert parser.nonces and policy["script-src"] == f"'self' 'nonce-{parser.nonces[0]}'"
