"""The picker: the scenarios on offer, each with its description, CPU time and main parameters.

The form under a scenario is checked on every keystroke by the scenario's own schema (through
``catalogue.check_form``), so its message is the CLI's message, word for word.

A launch starts exactly what is on screen: the form carries the scenario it was made for, and a
launch first settles the form on the highlighted scenario (a highlight change and Enter may
arrive in one burst, before the form for the new highlight is mounted), then reads both from it.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from plastilab.studies.scenario_form import ScenarioForm, check_form, discover, format_estimate
from plastilab.tui.keys import THEME
from plastilab.tui.messages import LaunchRequest, LaunchRequested
from plastilab.tui.screens.runs import RunsScreen
from plastilab.tui.study_sessions import show_running_study, start_study
from plastilab.tui.widgets.parameter_form import ParameterForm


class PickerScreen(Screen):
    BINDINGS = [
        Binding("ctrl+r", "launch", "Launch"),
        Binding("o", "runs", "Runs"),
        Binding("b", "dashboard", "Dashboard"),
        THEME,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ScenarioForm] = []
        self.entry: ScenarioForm | None = None
        self._form_lock = asyncio.Lock()  # one form swap at a time

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="picker"):
            yield OptionList(id="scenario-list")
            with VerticalScroll(id="details"):
                yield Static(id="scenario-about")
                yield Vertical(id="form-holder")
                yield Button("Launch  ^r", id="launch", variant="primary", compact=True)
                yield Static(id="scenario-watch")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.query_one("#details").can_focus = False  # the first Tab lands on the first field
        self.title = "plastilab"
        self.sub_title = "choose a scenario"
        self.query_one("#scenario-list").border_title = "scenarios"
        self.query_one("#details").border_title = "scenario"
        await self.reload()

    async def reload(self) -> None:
        self.entries = discover(self.app.scenarios_dirs)
        options = self.query_one(OptionList)
        options.clear_options()
        for index, entry in enumerate(self.entries):
            label = Text(entry.name, style="bold" if entry.ok else "red", no_wrap=True, overflow="ellipsis")
            label.append(f"\n  {format_estimate(entry.estimated_cpu_seconds)} CPU" if entry.ok else "\n  invalid file", style="dim")
            if entry.kind == "study":
                label.append("  study", style="dim italic")
            options.add_option(Option(label, id=str(index)))
        if self.entries:
            first = next((i for i, e in enumerate(self.entries) if e.name.endswith("-quick")), 0)
            options.highlighted = first
            await self.show_entry(self.entries[first])
        else:
            where = ", ".join(str(d) for d in self.app.scenarios_dirs) or "(no folder)"
            self.query_one("#scenario-about", Static).update(f"No scenario files (*.toml) in {where}.")
        options.focus()

    @on(OptionList.OptionHighlighted, "#scenario-list")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        await self.show_entry(self.entries[int(event.option.id)])

    @on(OptionList.OptionSelected, "#scenario-list")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        await self.launch_entry(self.entries[int(event.option.id)])

    def highlighted_entry(self) -> ScenarioForm | None:
        index = self.query_one("#scenario-list", OptionList).highlighted
        return self.entries[index] if index is not None and 0 <= index < len(self.entries) else None

    async def show_entry(self, entry: ScenarioForm) -> None:
        """Describe ``entry`` and mount its form, unless its form is already the one mounted."""
        async with self._form_lock:
            form = self._form()
            if entry is self.entry and (not entry.ok or (form is not None and form.entry is entry)):
                return
            await self._show_entry(entry)

    async def _show_entry(self, entry: ScenarioForm) -> None:
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
        watch = Text()
        if entry.ok and entry.watch_for:
            watch.append("About this study\n" if entry.kind == "study" else "What to watch for\n", style="bold")
            watch.append(entry.watch_for.strip())
        self.query_one("#scenario-watch", Static).update(watch)
        holder = self.query_one("#form-holder", Vertical)
        await holder.remove_children()
        if entry.ok and entry.kind == "study":  # run as written: its layout instead of a form
            await holder.mount(Static(Text(entry.details), id="study-details"))
        elif entry.ok:
            await holder.mount(ParameterForm(entry, self.app.devices))
        launch = self.query_one("#launch", Button)
        launch.label = "Start study  ^r" if entry.kind == "study" else "Launch  ^r"
        launch.disabled = not entry.ok

    def devices_found(self) -> None:
        """The app learned the machine's devices: the mounted form offers those."""
        form = self._form()
        if form is not None:
            form.set_devices(self.app.devices)

    def _form(self) -> ParameterForm | None:
        forms = self.query(ParameterForm)
        return forms.first() if forms else None

    def check(self):
        form = self._form()
        if form is None:
            return None
        result = check_form(form.entry, form.values(), form.device())
        form.show_check(result.error, result.key)
        self.query_one("#launch", Button).disabled = not result.ok
        return result

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#launch")
    async def _submit(self) -> None:
        await self.action_launch()

    async def action_launch(self) -> None:
        entry = self.highlighted_entry()
        if entry is not None:
            await self.launch_entry(entry)

    async def launch_entry(self, entry: ScenarioForm) -> None:
        """Launch ``entry`` with the values its own form shows (mounted first if it is not yet)."""
        await self.show_entry(entry)
        if entry.kind == "study":  # the same runner as `plastilab run STUDY.toml`, in its own process
            if not entry.ok:
                self.app.bell()
                return
            start_study(self.app, entry.path)
            return
        form = self._form()
        if not entry.ok or form is None or form.entry is not entry:
            self.app.bell()
            return
        result = self.check()
        if result is None or not result.ok:
            self.app.bell()
            return
        self.post_message(LaunchRequested(LaunchRequest(entry.path, result.overrides, form.device())))

    def action_runs(self) -> None:
        self.app.push_screen(RunsScreen())

    def action_dashboard(self) -> None:
        if self.app.live_session is not None or not show_running_study(self.app):
            self.app.show_live_dashboard()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dashboard":  # the live run's dashboard, or the running study's view
            return self.app.live_session is not None or any(p.is_alive() for p in self.app.study_processes)
        return True
