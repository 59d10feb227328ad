"""The ``[instruments]`` table of a scenario file, assembled from what each instrument declares.

Every sub-table is optional; a missing one, or ``every = 0``, switches that instrument off. Steps
are the scenario's training steps: an instrument runs at every step divisible by its ``every``.
Each sub-table's model is its instrument's ``Config`` (``plastilab.instruments.builtin``), one
field a registered instrument, in their ``Order.table`` order; an instrument registered after
this module was imported (a plug-in, a test's own) is accepted too, under its name.
This module imports pydantic only, so ``plastilab validate`` never pays for importing torch.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SerializationInfo, SerializerFunctionWrapHandler, create_model, model_serializer, model_validator

from plastilab.core.schema import Strict
from plastilab.instruments import builtin, registry
from plastilab.instruments.builtin.covariance import CovarianceConfig
from plastilab.instruments.builtin.hessian import HessianConfig
from plastilab.instruments.builtin.policy import PolicyConfig
from plastilab.instruments.builtin.probe import ProbeConfig, ProbeFamily
from plastilab.instruments.builtin.stats import StatsConfig

__all__ = ["CovarianceConfig", "HessianConfig", "InstrumentsConfig", "PolicyConfig", "ProbeConfig", "ProbeFamily", "StatsConfig"]


class InstrumentTables(Strict):
    """What ``InstrumentsConfig`` adds to its declared fields: the tables of the instruments
    registered after it was built, validated and written out like the others."""

    @model_validator(mode="wrap")
    @classmethod
    def _with_later_instruments(cls, data: Any, handler: Any) -> Any:
        if cls is not InstrumentsConfig or not isinstance(data, dict):
            return handler(data)
        later = tuple(name for name in registry.table_order() if name not in cls.model_fields and name in data)
        if not later:
            return handler(data)
        return _extended(later).model_validate(data)

    @model_serializer(mode="wrap")
    def _tables_of_later_instruments(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        # A parent model writes this table by InstrumentsConfig's own fields: add the others.
        data = handler(self)
        for name in type(self).model_fields.keys() - InstrumentsConfig.model_fields.keys():
            table = getattr(self, name)
            if table is None and info.exclude_none:
                continue
            data[name] = None if table is None else table.model_dump(mode=info.mode, exclude_none=info.exclude_none)
        return data


def _sections(names: Any) -> dict[str, Any]:
    return {name: (registry.table_order()[name].Config | None, None) for name in names}


# The built-in tables, in their order: the scenario kinds' schemas use this as their [instruments].
# Built-ins only, whatever else is registered when this module is first imported (a test's own
# instrument may be defined before): the others are the later ones, added per file as it is read.
BUILT_IN = tuple(name for name, cls in registry.table_order().items() if cls.__module__.startswith(f"{builtin.__name__}."))
InstrumentsConfig: type[InstrumentTables] = create_model(  # type: ignore[call-overload]
    "InstrumentsConfig", __base__=InstrumentTables, __module__=__name__, **_sections(BUILT_IN)
)
_EXTENDED: dict[tuple[str, ...], type[BaseModel]] = {}


def _extended(later: tuple[str, ...]) -> type[BaseModel]:
    """``InstrumentsConfig`` with fields for the instruments in ``later`` too (built once)."""
    if later not in _EXTENDED:
        _EXTENDED[later] = create_model("InstrumentsConfig", __base__=InstrumentsConfig, __module__=__name__, **_sections(later))
    return _EXTENDED[later]
