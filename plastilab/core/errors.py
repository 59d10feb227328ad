"""Errors a person can act on: one line naming the file, the key and the fix."""

from __future__ import annotations


class PlastilabError(Exception):
    """An error whose message is already a complete one-line explanation.

    The CLI prints ``str(error)`` and exits with ``exit_code``; no traceback.
    """

    exit_code = 1


class ScenarioError(PlastilabError):
    """The scenario file (or an override) is wrong: unknown key, wrong type, out of range."""

    exit_code = 2


class DatasetError(PlastilabError):
    """A dataset is missing or unreadable; the message says how to get it."""

    exit_code = 2


class NonFiniteLoss(PlastilabError):
    """Training produced NaN/inf; the message names the series, step and the key to change."""

    exit_code = 1

