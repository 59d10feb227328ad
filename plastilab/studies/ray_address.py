"""Is a Ray cluster listening at ``--address``? Asked with one TCP connection and a bounded wait,
before any study folder exists: ``ray.init`` on an unreachable address retried for minutes,
ignoring SIGTERM meanwhile, and left an empty study folder behind."""

from __future__ import annotations

import socket

from plastilab.core.errors import ScenarioError

CONNECT_TIMEOUT_S = 10.0
DEFAULT_PORT = 6379  # the head node's GCS port, as `ray start --head` opens it


def host_and_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``host:port`` or ``ray://host:port``; None for what Ray resolves itself ("auto", "local")."""
    text = address.strip()
    if text in ("auto", "local", ""):
        return None
    if "://" in text:
        text = text.split("://", 1)[1]
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    host = host.strip("[]") or "localhost"
    try:
        number = int(port) if port else (10001 if address.startswith("ray://") else DEFAULT_PORT)
    except ValueError:
        raise ScenarioError(f"--address {address}: the port {port!r} is not a number; give host:port, e.g. 10.0.0.5:6379") from None
    return host, number


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A one-line ``ScenarioError`` when nothing accepts a connection at ``address`` within ``timeout``."""
    target = host_and_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            return
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ScenarioError(
            f"--address {address}: no Ray cluster answers there ({why} within {timeout:.0f} s); check the address, "
            f"or start one with `ray start --head` on that machine"
        ) from None
