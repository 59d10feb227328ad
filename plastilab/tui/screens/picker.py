"""The picker: the scenarios on offer, each with its description, CPU time and main parameters.

The form under a scenario is checked on every keystroke by the scenario's own schema (through
``catalogue.check_form``), so its message is the CLI's message, word for word.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from plastilab.core.scenario_form import ScenarioForm, check_form, discover, format_estimate
from plastilab.tui.messages import LaunchRequest, LaunchRequested
from plastilab.tui.widgets.parameter_form import ParameterForm


class PickerScreen(Screen):
    BINDINGS = [
        Binding("ctrl+r", "launch", "Launch"),
        Binding("o", "runs", "Runs"),
        Binding("b", "dashboard", "Dashboard"),
        Binding("d", "app.toggle_theme", "Theme"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ScenarioForm] = []
        self.entry: ScenarioForm | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="picker"):
            yield OptionList(id="scenario-list")
            with VerticalScroll(id="details"):
                yield Static(id="scenario-about")
                yield Vertical(id="form-holder")
                yield Button("Launch  ^r", id="launch", variant="primary", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "plastilab"
        self.sub_title = "choose a scenario"
        self.query_one("#scenario-list").border_title = "scenarios"
        self.query_one("#details").border_title = "scenario"
        self.reload()

    def reload(self) -> None:
        self.entries = discover(self.app.scenarios_dirs)
        options = self.query_one(OptionList)
        options.clear_options()
        for index, entry in enumerate(self.entries):
            label = Text(entry.name, style="bold" if entry.ok else "red")
            label.append(f"\n  {format_estimate(entry.estimated_cpu_seconds)} CPU" if entry.ok else "\n  invalid file", style="dim")
            options.add_option(Option(label, id=str(index)))
        if self.entries:
            first = next((i for i, e in enumerate(self.entries) if e.name.endswith("-quick")), 0)
            options.highlighted = first
            self.show_entry(self.entries[first])
        else:
            where = ", ".join(str(d) for d in self.app.scenarios_dirs) or "(no folder)"
            self.query_one("#scenario-about", Static).update(f"No scenario files (*.toml) in {where}.")
        options.focus()

    @on(OptionList.OptionHighlighted, "#scenario-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self.entries[int(event.option.id)]
        if entry is not self.entry:
            self.show_entry(entry)

    @on(OptionList.OptionSelected, "#scenario-list")
    def _selected(self) -> None:
        self.action_launch()

    def show_entry(self, entry: ScenarioForm) -> None:
        self.entry = entry
        about = Text()
        about.append(entry.name, style="bold")
        if entry.ok:
            about.append(f"   {format_estimate(entry.estimated_cpu_seconds)} of CPU time\n", style="dim")
            about.append(entry.description.strip() or "(no description)")
        else:
            about.append(f"\n{entry.error}", style="red")
        about.append(f"\n{entry.path.parent.name}/{entry.path.name}", style="dim")
        self.query_one("#scenario-about", Static).update(about)
        holder = self.query_one("#form-holder", Vertical)
        holder.remove_children()
        if entry.ok:
            holder.mount(ParameterForm(entry))
        self.query_one("#launch", Button).disabled = not entry.ok

    def _form(self) -> ParameterForm | None:
        forms = self.query(ParameterForm)
        return forms.first() if forms else None

    def check(self):
        form = self._form()
        if form is None or self.entry is None:
            return None
        result = check_form(self.entry, form.values(), form.device())
        form.show_check(result.error, result.key)
        self.query_one("#launch", Button).disabled = not result.ok
        return result

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#launch")
    def _submit(self) -> None:
        self.action_launch()

    def action_launch(self) -> None:
        if self.entry is None or not self.entry.ok:
            self.app.bell()
            return
        result = self.check()
        form = self._form()
        if result is None or form is None or not result.ok:
            self.app.bell()
            return
        self.post_message(LaunchRequested(LaunchRequest(self.entry.path, result.overrides, form.device())))

    def action_runs(self) -> None:
        from plastilab.tui.screens.runs import RunsScreen

        self.app.push_screen(RunsScreen())

    def action_dashboard(self) -> None:
        self.app.show_live_dashboard()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dashboard":
            return self.app.live_session is not None
        return True
