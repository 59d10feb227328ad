"""Who may enter the SSH classroom: students' public keys (``--authorized-keys FILE``), a
classroom password drawn at start and printed once (as ``serve`` prints its token), or both;
``--no-auth`` only where nobody else can reach the server (a loopback address).

A connection gets ``MAX_AUTH_ATTEMPTS`` tries (wrong keys and wrong passwords together, as
OpenSSH's MaxAuthTries counts them), then it is closed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from plastilab.core.errors import PlastilabError
from plastilab.core.loopback import is_loopback

MAX_AUTH_ATTEMPTS = 6
# No 0/o, 1/l/i: read off a projector and typed by thirty people.
PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"


class AccessError(PlastilabError):
    exit_code = 2


def draw_password() -> str:
    """Three groups of four (about 59 bits): e.g. ``k7rd-mm3x-q2hw``."""
    return "-".join("".join(secrets.choice(PASSWORD_LETTERS) for _ in range(4)) for _ in range(3))


@dataclass(frozen=True)
class Access:
    keys: object | None  # asyncssh's SSHAuthorizedKeys
    key_count: int
    password: str | None
    open: bool  # --no-auth

    def check_password(self, given: str) -> bool:
        return self.password is not None and secrets.compare_digest(given.encode("utf-8", "replace"), self.password.encode())

    def key_allowed(self, key, peer_host: str, peer_addr: str) -> bool:
        # validate() also honours a key line's from="…" option; its other options are not used.
        return self.keys is not None and self.keys.validate(key, peer_host, peer_addr) is not None

    def methods(self) -> str:
        if self.open:
            return "no authentication (--no-auth)"
        ways = ([f"{self.key_count} authorized key{'s' if self.key_count != 1 else ''}"] if self.keys is not None else []) + (["the classroom password"] if self.password else [])
        return " or ".join(ways)


def plan_access(host: str, authorized_keys: Path | None, password: bool, no_auth: bool) -> Access:
    """The access the options ask for, or a one-line ``AccessError`` saying why not."""
    if no_auth:
        if not is_loopback(host):
            raise AccessError(f"--no-auth: refused on --host {host}, which other machines can reach; give students --authorized-keys FILE or the drawn password")
        if authorized_keys is not None or password:
            raise AccessError("--no-auth: lets everyone in; drop --authorized-keys and --password, or drop --no-auth")
        return Access(None, 0, None, open=True)
    keys, count = None, 0
    if authorized_keys is not None:
        keys, count = read_keys(authorized_keys)
    drawn = draw_password() if password or keys is None else None
    return Access(keys, count, drawn, open=False)


def read_keys(path: Path):
    import asyncssh  # deferred: pulls in asyncssh

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AccessError(f"--authorized-keys {path}: cannot read it ({reason}); give a file of public keys, one per line") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise AccessError(f"--authorized-keys {path}: no keys in it; put the students' public keys (ssh-ed25519 AAAA…) one per line")
    try:
        keys = asyncssh.import_authorized_keys(text)
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise AccessError(f"--authorized-keys {path}: {exc}; each line is a public key as in ~/.ssh/id_ed25519.pub") from None
    return keys, len(lines)
