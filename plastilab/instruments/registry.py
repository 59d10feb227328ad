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


def _ordered(key: str) -> list[type[Instrument]]:
    _load_builtins()  # cheap after the first call: the modules are in sys.modules
    defined = list(_REGISTERED.values())
    return sorted(defined, key=lambda cls: (getattr(cls, key), defined.index(cls)))


def run_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order the suite runs them (the order of their scalars in metrics.jsonl)."""
    return {cls.name: cls for cls in _ordered("run_position")}


def table_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order of their tables in ``[instruments]``."""
    return {cls.name: cls for cls in _ordered("table_position")}


def memory_order() -> dict[str, type[Instrument]]:
    """name -> class, in the order their parts come in the memory estimate."""
    return {cls.name: cls for cls in _ordered("memory_position")}


def instrument_class(name: str) -> type[Instrument]:
    """The instrument registered under ``name`` (KeyError: none is)."""
    return run_order()[name]
