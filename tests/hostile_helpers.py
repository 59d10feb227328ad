"""Running the CLI in-process and checking the bad-input contract: exit 2, one line, no traceback."""

from __future__ import annotations

import signal

import pytest

from plastilab.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``plastilab ARGS``, run in this process.

    ``run`` puts back the SIGINT handler it found; it is restored here as well, so that no test
    can leave SIGINT ignored for every later test's child process.
    """
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
    finally:
        signal.signal(signal.SIGINT, previous)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """The bad-input contract: exit 2, exactly one line on stderr, no traceback, printable."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("plastilab: "), err
    assert "Traceback" not in err and "\x1b" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
