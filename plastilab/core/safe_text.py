"""Text read from files, shown as text: no terminal control sequences reach a screen.

A scenario's description, a run's error, a log line or a file name can hold anything, including
``ESC [ 2 J`` (clear the screen) or a bidirectional override that makes text read backwards.
``shown`` turns every such character into a visible escape (``\\x1b``), so what a file holds is
displayed, never obeyed. Rich markup is the other half: the faces render these strings as
``rich.text.Text`` (never parsed as markup) or with ``markup=False``.

This module is plain Python, so the engine and the CLI can use it without importing Rich.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, the Unicode line and paragraph separators,
# the bidirectional embeddings, overrides and isolates (the "Trojan source" characters), and
# lone surrogates (JSON can hold them; printing one raises UnicodeEncodeError).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n]")
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object, limit: int | None = None, *, one_line: bool = True) -> str:
    """``value`` as printable text: control characters escaped (``\\x1b``), line breaks too
    when ``one_line`` (tabs become a space), cut to ``limit`` characters with an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub(_escape, text)
    if one_line:
        text = _LINE_BREAKS.sub(lambda m: " " if m.group() == "\t" else "\\n", text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    return text


def is_plain(value: str) -> bool:
    """True when ``shown`` would leave ``value`` as it is (one line, no control characters)."""
    return _CONTROL.search(value) is None and _LINE_BREAKS.search(value) is None
