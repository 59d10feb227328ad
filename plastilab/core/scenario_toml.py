"""Reading a scenario file's TOML safely: a regular file, of bounded size, of bounded depth.

Plain Python (no pydantic), so ``plastilab list`` can read every file in a folder at once, and
a hostile file in a ``--scenarios`` folder costs one line, not a crash of the lab.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.core.regular_files import NotRegularFile, read_regular
from plastilab.core.safe_text import is_plain

# A scenario file is a page of settings: a megabyte is far more than any needs, and the cap
# keeps a mistaken path (a dataset, a log) from being read into memory.
MAX_FILE_BYTES = 1 << 20
# Tables and arrays nest a few levels in any real scenario; a hostile file could nest 100,000
# and exhaust Python's recursion in every reader after the parser.
MAX_DEPTH = 32
BOM = "\ufeff"


def read_scenario_toml(path: str | Path) -> dict[str, Any]:
    """A scenario file's TOML as plain data, or a one-line ``ScenarioError`` saying why not.

    Never blocks (a FIFO named ``x.toml`` is refused, not read), never reads more than
    ``MAX_FILE_BYTES``, accepts a UTF-8 byte-order mark, refuses nesting beyond ``MAX_DEPTH``.
    """
    path = Path(path)
    source = str(path)
    try:
        if path.is_dir():
            raise ScenarioError(f"{source}: a folder, not a scenario file; pass one of its .toml files (`plastilab list --scenarios {source}` shows them)")
        if not path.exists():
            raise ScenarioError(f"{source}: no such scenario file; `plastilab list` shows the built-in ones")
        data = read_regular(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    except NotRegularFile as exc:
        raise ScenarioError(f"{source}: {exc}; pass a .toml file") from None
    except ValueError as exc:
        raise ScenarioError(f"{source}: {exc}; a scenario file is a page of settings") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{source}: not a UTF-8 text file (byte {exc.start}); save it as UTF-8") from None
    if text.startswith(BOM):
        text = text[len(BOM) :]  # Windows editors write one; it carries no meaning
    raw = parse_toml(text, source)
    check_depth(raw, source)
    return raw


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply to read; a scenario nests at most {MAX_DEPTH} levels") from None


def check_depth(value: Any, source: str, where: str = "") -> None:
    """Refuse tables and arrays nested deeper than ``MAX_DEPTH`` (checked without recursion),
    and keys with control characters or line breaks (keys become series names on screens)."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        node, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(f"{source}: {key or '(top level)'}: nested more than {MAX_DEPTH} levels deep; flatten it")
        if isinstance(node, dict):
            for k in node:
                if not is_plain(k):
                    raise ScenarioError(f"{source}: {key + '.' if key else ''}{k!r}: a key with control characters or a line break; use a plain name")
            stack.extend((v, f"{key}.{k}" if key else str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, key, depth + 1) for v in node)
