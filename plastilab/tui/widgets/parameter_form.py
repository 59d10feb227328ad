"""The picker's form: a scenario's main parameters, one line each, plus the device to run on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from plastilab.core.scenario_form import DEVICES, ScenarioForm


class ParameterForm(Vertical):
    """Fields named ``param-<i>``; ``values()`` maps each key path to the text typed."""

    def __init__(self, entry: ScenarioForm, device_notes: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.device_notes = device_notes or {}

    def compose(self) -> ComposeResult:
        for index, (key, value) in enumerate(self.entry.parameters):
            with Horizontal(classes="form-row"):
                yield Label(key, classes="form-key")
                yield Input(value, id=f"param-{index}", compact=True, classes="form-value")
        with Horizontal(classes="form-row"):
            yield Label("device", classes="form-key")
            options = [(self._device_label(d), d) for d in DEVICES]
            default = self.entry.device if self.entry.device in DEVICES else "auto"
            yield Select(options, value=default, allow_blank=False, compact=True, id="device", classes="form-value")
        yield Static("", id="form-error")

    def _device_label(self, device: str) -> str:
        note = self.device_notes.get(device)
        return f"{device} ({note})" if note else device

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
