"""The classroom's SSH host key: made on first use, then kept, so students' ssh clients see the
same key every lesson (a new key each time would teach them to accept any key).

Kept in ``$XDG_CONFIG_HOME/plastilab/ssh_host_ed25519_key`` (``~/.config/...``) unless
``--host-key FILE`` names another file; a missing file is created there, readable by its owner
only, with the public key beside it (``.pub``).
"""

from __future__ import annotations

import os
from pathlib import Path

from plastilab.core.errors import PlastilabError

KEY_NAME = "ssh_host_ed25519_key"


class HostKeyError(PlastilabError):
    exit_code = 2


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "plastilab"


def default_host_key_path() -> Path:
    return config_dir() / KEY_NAME


def load_or_create_host_key(path: Path | None = None):
    """The host key at ``path`` (default: the config folder's), created if missing."""
    import asyncssh  # deferred: pulls in asyncssh

    path = Path(path) if path is not None else default_host_key_path()
    if path.exists():
        try:
            return asyncssh.read_private_key(str(path))
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            raise HostKeyError(f"--host-key {path}: not a readable unencrypted SSH private key ({exc}); give another file, or delete it to make a new one") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="plastilab classroom")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key.export_private_key())
        key.write_public_key(str(path) + ".pub")
    except OSError as exc:
        raise HostKeyError(f"--host-key {path}: cannot write a new host key there ({exc.strerror or exc}); give a writable path with --host-key") from None
    return key


def fingerprint(key) -> str:
    """``SHA256:…``, as ``ssh`` shows it when asking a student to trust the key."""
    return key.get_fingerprint("sha256")
