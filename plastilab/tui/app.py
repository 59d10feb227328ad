"""The lab: a Textual app over the engine's event stream.

Screens: the picker (choose and launch a scenario), the dashboard (one session, drawn live),
the runs list (reopen, compare, rerun). A session's events come from a reader worker, a
thread that polls its source and posts ``EventsArrived`` batches; the app folds each batch
into the session's state and acknowledges it, so the reader never runs ahead of the UI by more
than one batch and the UI never waits on the producer.

``read_only=True`` is the classroom's viewer (``plastilab watch RUNS_DIR``, ``plastilab serve
--watch``): it opens on the runs list of a folder, refreshed as runs appear, and follows live
runs there; there is no picker, and nothing that starts, pauses, stops or reruns a run. Any
number of viewers may watch one folder: they only read it, so a viewer that goes away stops
nothing.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.worker import get_current_worker

from plastilab.tui.messages import (
    EventsArrived,
    LaunchRequest,
    LaunchRequested,
    OpenRunRequested,
    RelaunchRequested,
    SourceFinished,
)
from plastilab.runtime.session import Session
from plastilab.tui.new_sessions import folder_session, scenario_name, start_training
from plastilab.tui.presenter import Follower, Leader
from plastilab.tui.screens.confirm import ConfirmScreen
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.picker import PickerScreen
from plastilab.tui.screens.runs import RunsScreen
from plastilab.tui.study_sessions import open_study_view
from plastilab.tui.widgets.parameter_form import available_devices

BATCH_LIMIT = 20_000  # events a message carries at most
POLL_S = 0.1


class PlastilabApp(App):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses elsewhere find it
    TITLE = "plastilab"
    ENABLE_COMMAND_PALETTE = False  # every action has its own key in the footer
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    # The theme key works everywhere; the picker and runs footers show it (the dashboard's is full).
    BINDINGS = [
        Binding("d", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
        # Presenter mode, a follower only (tui/presenter.py): one key leaves and rejoins the teacher.
        Binding("b", "browse", "Browse"),
        Binding("b", "follow", "Follow"),
    ]

    def __init__(
        self,
        scenarios_dirs: list[Path] | None = None,
        runs_root: Path = Path("runs"),
        watch_dir: Path | None = None,
        threads: int | None = None,
        history_capacity: int = 2048,
        theme: str = "textual-dark",
        read_only: bool = False,
        study_dir: Path | None = None,
        lead: bool = False,
        follow: bool = False,
    ) -> None:
        super().__init__()
        self.read_only = read_only
        self.scenarios_dirs = [Path(d) for d in (scenarios_dirs or [])]
        self.runs_root = Path(runs_root)
        self.watch_dir = Path(watch_dir) if watch_dir is not None else None
        self.study_dir = Path(study_dir) if study_dir is not None else None  # `watch STUDY_DIR`
        self.study_processes: list = []  # studies this app started (tui/screens/study_view.py)
        self.threads = threads
        self.history_capacity = history_capacity
        self.initial_theme = theme
        self.sessions: dict[int, Session] = {}
        self.live_session: Session | None = None
        self.devices: tuple[str, ...] = ("auto", "cpu")  # until the device worker says more
        self.leader = Leader(self) if lead else None  # presenter mode: this app's view is published
        self.follower = Follower(self) if follow and read_only else None  # ... or followed

    def on_mount(self) -> None:
        self.theme = self.initial_theme
        for presenter in (self.leader, self.follower):
            if presenter is not None:
                presenter.start()
        if self.watch_dir is not None:
            self.open_folders([self.watch_dir], follow=True)
        elif self.study_dir is not None:
            open_study_view(self, self.study_dir)
        elif self.read_only:
            self.push_screen(RunsScreen())
        else:
            self.push_screen(PickerScreen())
            self.run_worker(self._find_devices, thread=True, group="devices")

    def _find_devices(self) -> None:
        """Which devices this machine has (torch is imported here, off the UI thread)."""
        devices = available_devices()
        self.call_from_thread(self._devices_found, devices)

    def _devices_found(self, devices: tuple[str, ...]) -> None:
        self.devices = devices
        for screen in self.screen_stack:
            if isinstance(screen, PickerScreen):
                screen.devices_found()

    # -- sessions -------------------------------------------------------------------------------
    def running_session(self) -> Session | None:
        """The run this app trains now, if it has not ended."""
        session = self.live_session
        if session is not None and session.process is not None and not session.state.ended:
            return session
        return None

    def request_launch(self, request: LaunchRequest, replace: bool = False) -> None:
        """Launch ``request``; while a run is live, ask first whether to stop it."""
        if self.read_only:
            self.notify("a read-only view starts no runs", severity="warning")
            return
        running = self.running_session()
        if running is None:
            self.launch(request, replace)
            return
        name = running.state.scenario or running.title
        question = f"{name} is still running. Stop it and start {scenario_name(request.scenario_path)}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.launch(request, replace)

        self.push_screen(ConfirmScreen(question, yes="Stop and start", no="Keep it"), answered)

    def launch(self, request: LaunchRequest, replace: bool = False) -> Session:
        """Start a training process for ``request`` and show its dashboard (stopping a live one)."""
        if self.read_only:
            raise PermissionError("a read-only view starts no runs")
        previous = self.running_session()
        if previous is not None:
            self.stop_session(previous)
            self.notify(f"stopped {previous.state.scenario or previous.title} to start a new run", markup=False)
        session = start_training(request, self.runs_root, self.threads, self.history_capacity)
        self.live_session = session
        self._open(session, replace)
        return session

    def open_folders(self, run_dirs: list[Path], follow: bool | None = None) -> Session:
        """A dashboard over one run folder (followed while its writer lives) or several overlaid."""
        session = folder_session(run_dirs, follow, self.history_capacity)
        self._open(session)
        return session

    def _open(self, session: Session, replace: bool = False) -> None:
        self.sessions[session.id] = session
        self.run_worker(partial(self._read_events, session), thread=True, group=f"reader-{session.id}", exclusive=True, name=f"reader {session.title}")
        screen = DashboardScreen(session)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _read_events(self, session: Session) -> None:
        """The reader worker (a thread): poll the source, post batches, wait for each to be taken."""
        worker = get_current_worker()
        source = session.source
        while not worker.is_cancelled and not source.done:
            events = source.poll(POLL_S)
            for start in range(0, len(events), BATCH_LIMIT):
                session.ack.clear()
                self.post_message(EventsArrived(session.id, events[start : start + BATCH_LIMIT]))
                while not session.ack.wait(POLL_S):
                    if worker.is_cancelled:
                        return
        if not worker.is_cancelled:
            self.post_message(SourceFinished(session.id))

    @on(EventsArrived)
    def _events_arrived(self, message: EventsArrived) -> None:
        session = self.sessions.get(message.session_id)
        if session is not None:
            session.state.apply_all(message.events)
            session.ack.set()  # the reader may send the next batch

    @on(SourceFinished)
    def _source_finished(self, message: SourceFinished) -> None:
        session = self.sessions.get(message.session_id)
        if session is None:
            return
        if session.state.state == "failed":
            self.notify(session.state.error or "the run failed", title="run failed", severity="error", timeout=8, markup=False)
        if session.process is not None:
            self.run_worker(partial(session.process.shutdown, 5.0, True), thread=True, group=f"reap-{session.id}")

    # -- controls the dashboard asks for --------------------------------------------------------
    def pause_session(self, session: Session) -> None:
        self._set_paused(session, True)

    def resume_session(self, session: Session) -> None:
        self._set_paused(session, False)

    def _set_paused(self, session: Session, paused: bool) -> None:
        if self.read_only or session.process is None or session.state.ended:
            return
        (session.process.pause if paused else session.process.resume)()
        session.state.set_state("paused" if paused else "running")
        session.state.log("info", "paused" if paused else "resumed")

    def stop_session(self, session: Session) -> None:
        """Ask the run to stop; a worker waits for the process and terminates it if it lingers."""
        if self.read_only or session.process is None or session.state.ended:
            return
        session.process.request_stop()
        session.state.set_state("stopping")
        session.state.log("info", "stopping…")
        self.run_worker(partial(session.process.shutdown, 10.0, False), thread=True, group=f"stop-{session.id}")

    def restart_session(self, session: Session) -> None:
        request = session.relaunch_request()
        if request is None:
            return
        self.request_launch(request, replace=True)

    def release_session(self, session: Session) -> None:
        """A dashboard closed: forget its session unless it is the live run (which can be reopened)."""
        if session is self.live_session:
            return
        if session.process is not None and session.process.is_alive():
            return
        self.workers.cancel_group(self, f"reader-{session.id}")
        self.sessions.pop(session.id, None)

    def show_live_dashboard(self) -> None:
        if self.live_session is not None:
            self.push_screen(DashboardScreen(self.live_session))

    # -- requests from screens -------------------------------------------------------------------
    @on(LaunchRequested)
    def _launch_requested(self, message: LaunchRequested) -> None:
        self.request_launch(message.request)

    @on(OpenRunRequested)
    def _open_requested(self, message: OpenRunRequested) -> None:
        self.open_folders(message.run_dirs)

    @on(RelaunchRequested)
    def _relaunch_requested(self, message: RelaunchRequested) -> None:
        self.request_launch(LaunchRequest(message.run_dir / "scenario.toml", [], None))

    # -- app-wide keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("browse", "follow"):  # the key that applies now: leave, or rejoin
            return self.follower is not None and self.follower.following == (action == "browse")
        return super().check_action(action, parameters)

    def action_browse(self) -> None:
        if self.follower is not None and self.follower.following:
            self.follower.toggle()

    def action_follow(self) -> None:
        if self.follower is not None and not self.follower.following:
            self.follower.toggle()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    async def action_quit(self) -> None:
        await asyncio.to_thread(self.end_training)
        self.exit()

    def end_training(self) -> None:
        """End every training process this app started (stop, wait, terminate, kill)."""
        for study in self.study_processes:  # studies it started: stopped as Ctrl-C stops them
            study.shutdown()
        for session in list(self.sessions.values()):
            if session.process is not None:
                session.process.shutdown(timeout=5.0, drain=True)

    def on_unmount(self) -> None:
        if self.leader is not None:
            self.leader.stop()
        self.end_training()
