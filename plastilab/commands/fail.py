"""How a command refuses bad input: one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import sys

import typer

from plastilab.core.errors import PlastilabError
from plastilab.core.safe_text import shown


def fail(error: PlastilabError | str, code: int = 2) -> None:
    """Print one line on stderr and exit: bad input never shows a traceback."""
    print(f"plastilab: {shown(error)}", file=sys.stderr)
    raise typer.Exit(getattr(error, "exit_code", code))
