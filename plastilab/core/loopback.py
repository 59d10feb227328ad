"""Whether a host name or address is this machine's loopback: the servers (`serve`, `serve --ssh`)
listen there unless told otherwise, and ask more of a user who opens them to the network."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
