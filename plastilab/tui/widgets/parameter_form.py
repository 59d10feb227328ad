"""The picker's form: a scenario's main parameters, one line each, plus the device to run on.

The device menu offers what this machine has (``available_devices``: ``auto``, ``cpu``, and
``cuda`` or ``mps`` when ``core.device`` finds them), plus the file's own choice, marked, when
the machine lacks it. Up and Down move between the fields, as Tab and Shift+Tab do.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from plastilab.core.device import resolve_device
from plastilab.core.errors import PlastilabError
from plastilab.studies.scenario_form import DEVICES, ScenarioForm

ALWAYS = ("auto", "cpu")


def available_devices() -> tuple[str, ...]:
    """The devices this machine can run on, asked of ``core.device`` (imports torch: call it off the UI thread)."""
    found = list(ALWAYS)
    for device in DEVICES:
        if device in ALWAYS:
            continue
        try:
            resolve_device(device)
        except PlastilabError:
            continue
        found.append(device)
    return tuple(found)


class ParameterForm(Vertical):
    """Fields named ``param-<i>``; ``values()`` maps each key path to the text typed."""

    BINDINGS = [
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
    ]

    def __init__(self, entry: ScenarioForm, devices: tuple[str, ...] = ALWAYS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.devices = devices

    def compose(self) -> ComposeResult:
        for index, (key, value) in enumerate(self.entry.parameters):
            with Horizontal(classes="form-row"):
                yield Label(key, classes="form-key")
                yield Input(value, id=f"param-{index}", compact=True, classes="form-value")
        with Horizontal(classes="form-row"):
            yield Label("device", classes="form-key")
            yield Select(self._device_options(), value=self._default_device(), allow_blank=False, compact=True, id="device", classes="form-value")
        yield Static("", id="form-error")

    def _default_device(self) -> str:
        return self.entry.device if self.entry.device in DEVICES else "auto"

    def _device_options(self) -> list[tuple[str, str]]:
        options = [(d, d) for d in self.devices]
        own = self._default_device()
        if own not in self.devices:  # the file asks for a device this machine lacks: say so
            options.append((f"{own} (not on this machine)", own))
        return options

    def set_devices(self, devices: tuple[str, ...]) -> None:
        """The machine's devices became known: offer those, keeping the current choice."""
        select = self.query_one("#device", Select)
        current = select.value
        self.devices = devices
        select.set_options(self._device_options())
        offered = {value for _, value in self._device_options()}
        select.value = current if current in offered else self._default_device()

    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#param-{i}", Input).value for i, (key, _) in enumerate(self.entry.parameters)}

    def device(self) -> str:
        value = self.query_one("#device", Select).value
        return value if isinstance(value, str) else "auto"

    def show_check(self, error: str | None, key: str | None) -> None:
        for i, (name, _) in enumerate(self.entry.parameters):
            self.query_one(f"#param-{i}", Input).set_class(error is not None and name == key, "-invalid")
        message = self.query_one("#form-error", Static)
        message.update(error or "")
        message.set_class(error is not None, "-error")
