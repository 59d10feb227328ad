"""Errors a person can act on: one line naming the file, the key and the fix."""

from __future__ import annotations

from plastilab.core.safe_text import shown


class PlastilabError(Exception):
    """An error whose message is already a complete one-line explanation.

    The CLI prints ``str(error)`` and exits with ``exit_code``; no traceback.
    """

    exit_code = 1

    def __init__(self, message: object = "") -> None:
        # One line, and text: a file name or a value quoted in the message cannot carry a line
        # break or a terminal control sequence to the screen.
        super().__init__(shown(message))


class ScenarioError(PlastilabError):
    """The scenario file (or an override) is wrong: unknown key, wrong type, out of range."""

    exit_code = 2


class DatasetError(PlastilabError):
    """A dataset is missing or unreadable; the message says how to get it."""

    exit_code = 2


class NonFiniteLoss(PlastilabError):
    """Training produced NaN/inf; the message names the series, step and the key to change."""

    exit_code = 1

