"""Every instrument there is: the built-in ones (each module of ``plastilab.instruments.builtin``)
and any other ``Instrument`` subclass defined since (a plug-in, a test's own).

There is no list to keep: defining an ``Instrument`` subclass registers it (``base``), and the
built-ins are found by walking their package. Torch-free, like the declarations it reads.
"""

from __future__ import annotations

import importlib
import pkgutil

from plastilab.instruments import builtin
from plastilab.instruments.base import _REGISTERED, Instrument


def _load_builtins() -> None:
    """Import every module of ``plastilab.instruments.builtin`` (each registers its instrument)."""
    for module in pkgutil.iter_modules(builtin.__path__):
        importlib.import_module(f"{builtin.__name__}.{module.name}")


def _ordered(key: str) -> dict[str, type[Instrument]]:
    """name -> class, by the ``key`` field of their ``Order`` (ties: the order they were defined)."""
    _load_builtins()  # cheap after the first call: the modules are in sys.modules
    defined = list(_REGISTERED.values())
    return {cls.name: cls for cls in sorted(defined, key=lambda cls: (getattr(cls.order, key), defined.index(cls)))}


def run_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order the suite runs them (the order of their scalars in metrics.jsonl)."""
    return _ordered("run")


def table_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order of their tables in ``[instruments]``."""
    return _ordered("table")


def memory_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order their parts come in the memory estimate."""
    return _ordered("memory")


def instrument_class(name: str) -> type[Instrument]:
    """The instrument registered under ``name`` (KeyError: none is)."""
    return run_order()[name]
