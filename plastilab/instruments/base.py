"""The instrument interface: what one instrument declares about itself, and how it measures.

An instrument is one class in one file, and everything about it is on that class:

    class WeightCount(Instrument):
        name = "weight_count"               # its [instruments.weight_count] table, its metrics' prefix
        Config = WeightCountConfig          # that table's pydantic model (with an ``every``)

        @classmethod
        def memory(cls, config, parameters, n_in, width) -> list[Part]:
            return []                       # what it holds beside the network, for the estimate

        def measure(self, at: MeasureRequest) -> Measurement:
            return Measurement({"weight_count/value": 1.0})

Defining the class registers it (``registered``): the scenario schema accepts its table, the
memory estimate counts it, and ``InstrumentSuite`` builds and runs it when its table is on. A
class that leaves out ``name``, ``Config``, ``memory`` or ``measure`` is refused where it is
defined, so nothing is ever silently missing. The built-in instruments are the modules of
``plastilab.instruments.builtin`` (``registry`` imports them all).

This module imports no torch: the schema and the memory estimate read these declarations in
``plastilab validate``. An instrument's file imports its torch maths inside its methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from pydantic import BaseModel

if TYPE_CHECKING:
    import torch
    from torch import nn

    from plastilab.core.events import Event
    from plastilab.core.memory_estimate import Part
    from plastilab.instruments.functional import LossFn

# An instrument that declares no place comes after the built-ins, in the order defined.
LAST = 1000


class Order(NamedTuple):
    """An instrument's place in the three lists it is in (lower first; ties: the order defined).
    Each is kept apart so that scenario.toml, metrics.jsonl and ``validate`` read as they always have."""

    table: int = LAST  # its table in [instruments]: scenario.toml's order, the 'allowed' keys
    run: int = LAST  # the suite runs due instruments in this order: their scalars' order in metrics.jsonl
    memory: int = LAST  # its parts in the memory estimate, which sorts by size: this orders equal sizes


@dataclass
class Measurement:
    """What one instrument measured at one step: tagged scalars and array events."""

    scalars: dict[str, float] = field(default_factory=dict)
    arrays: list[Event] = field(default_factory=list)  # array events, and any logs worth keeping


class SuiteInputs:
    """What a run hands its instruments when the suite is built: the seed, and the named inputs
    the instruments declare in ``Instrument.needs`` (``probe_inputs``, ``stats_inputs``, ...).

    An input that an instrument declares but the run did not give reads as None; a name that no
    registered instrument declares is refused, so a misspelt keyword cannot go unnoticed.
    """

    def __init__(self, seed: int = 0, **given: Any) -> None:
        declared = declared_inputs()
        unknown = sorted(set(given) - declared)
        if unknown:
            raise TypeError(f"no instrument takes the input {unknown[0]!r}; the instruments take: {', '.join(sorted(declared))}")
        self.seed = seed
        self._given = given

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and name in declared_inputs():
            return self._given.get(name)
        raise AttributeError(f"no instrument declares the input {name!r}")


@dataclass(frozen=True)
class MeasureRequest:
    """One measurement: the network of one series just after the optimiser step of ``step``.

    ``loss_fn(outputs, targets)`` and ``batch = (inputs, targets)`` define the training loss
    (None where a runner gives none); ``labels`` order a batch by class or task; ``init_params``
    is θ_0 of the series and ``previous_params`` its parameters before this step's update, when known.
    """

    step: int
    series: str
    model: nn.Module
    loss_fn: LossFn | None = None
    batch: tuple[torch.Tensor, Any] | None = None
    labels: Any = None
    init_params: dict[str, torch.Tensor] | None = None
    previous_params: dict[str, torch.Tensor] | None = None

    def require_loss(self, instrument: str) -> None:
        """Refuse a request without the loss an instrument measures (``loss_fn`` and ``batch``)."""
        if self.loss_fn is None or self.batch is None:
            raise ValueError(f"the {instrument} instrument needs loss_fn and batch")


# name -> class, in the order the classes were defined; ``registry`` orders them.
_REGISTERED: dict[str, type[Instrument]] = {}


class Instrument:
    """Base class: declare the class variables below and ``memory``; override ``measure`` (and
    ``start`` for a measurement at θ_0, ``state_dict`` for what a checkpoint keeps)."""

    # -- what it is: its table in [instruments] and that table's schema
    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    order: ClassVar[Order] = Order()
    # -- its cost: what the suite prepares or shares for it (and ``memory`` below)
    needs_finite_parameters: ClassVar[bool] = True  # skipped, with a warning, on a NaN network
    needs_previous_params: ClassVar[bool] = False  # the suite copies the parameters before a due step
    takes_batch: ClassVar[bool] = False  # measures on ``MeasureRequest.batch`` (its first ``n_examples``)
    needs: ClassVar[tuple[str, ...]] = ()  # the ``SuiteInputs`` it reads, beside the seed

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [what for what in ("name", "Config", "memory", "measure") if what not in _declared(cls)]
        if missing:
            raise TypeError(f"instrument {cls.__qualname__} does not declare {', '.join(missing)} (see plastilab.instruments.base)")
        if not (isinstance(cls.Config, type) and issubclass(cls.Config, BaseModel) and "every" in cls.Config.model_fields):
            raise TypeError(f"instrument {cls.__qualname__}: Config must be a pydantic model with an 'every' field")
        known = _REGISTERED.get(cls.name)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(f"instrument {cls.__qualname__}: the name {cls.name!r} is taken by {known.__module__}.{known.__qualname__}")
        _REGISTERED[cls.name] = cls

    def __init__(self, config: Any, inputs: SuiteInputs) -> None:
        self.config = config  # its table of the [instruments] section
        self.inputs = inputs

    @classmethod
    def memory(cls, config: Any, parameters: int, n_in: int, width: int) -> list[Part]:
        """The memory it holds beside the network when its table ``config`` is on, for a network
        of ``parameters`` weights whose input has ``n_in`` numbers and widest layer ``width``
        (``core.memory_estimate.Part``s, each naming the key that shrinks it)."""
        raise NotImplementedError

    @property
    def period(self) -> int:
        """Runs at every step divisible by this; 0 switches it off."""
        return getattr(self.config, "every", 0)

    def due(self, step: int) -> bool:
        return self.period > 0 and step % self.period == 0

    def start(self, series: str, model: nn.Module) -> Measurement | None:
        """Called once per series before training (step 0); None: nothing to measure at θ_0."""
        return None

    def measure(self, at: MeasureRequest) -> Measurement:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """What a run's checkpoint keeps of this instrument (tensors, numbers, text): the
        baselines it measured at the start. Most instruments keep none."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _declared(cls: type) -> set[str]:
    """Names set on ``cls`` or on a base below ``Instrument``."""
    return {name for klass in cls.__mro__ if klass is not Instrument for name in vars(klass)}


def declared_inputs() -> set[str]:
    """Every input name a registered instrument declares in ``needs``."""
    return {name for cls in _REGISTERED.values() for name in cls.needs}
