"""Presenter mode: the teacher's lab leads, the students' read-only labs follow.

The leader (``plastilab --lead``, ``plastilab watch RUNS_DIR --lead``) publishes its view (the
run its dashboard shows, the active pane, the metric) to the leader file in the runs folder
(``classroom/leader_state.py``) whenever it changes. A follower (``watch --follow``, and every
session of ``serve --ssh --follow`` or ``serve --watch --follow``) polls that file and shows the
same: it opens the run, switches the pane and the metric. ``b`` lets a student browse freely;
``b`` again follows the teacher again. The header says which.
"""

from __future__ import annotations

import time
from pathlib import Path
from weakref import WeakKeyDictionary

from textual.css.query import NoMatches
from textual.widgets import TabbedContent

from plastilab.classroom.leader_state import LeaderFileWatcher, LeaderView, remove_view, write_view
from plastilab.rundir.layout import is_run_dir
from plastilab.tui.panes import PANE_IDS
from plastilab.tui.screens.dashboard import DashboardScreen
from plastilab.tui.screens.runs import RunsScreen

PERIOD_S = 0.2  # leader publishes / followers poll this often: a change shows within ~0.5 s
OPEN_PATIENCE_S = 5.0  # a follower opening the teacher's run waits this long before trying again
# Short: at 80 columns the header also holds the run's name; the footer shows the b key.
FOLLOWING = "following"
BROWSING = "browsing freely"


def dashboards(app) -> list:
    return [screen for screen in app.screen_stack if isinstance(screen, DashboardScreen)]


def session_folder(session) -> Path | None:
    """The run folder a dashboard shows: a watched folder, or a launched run's folder."""
    if session.folder is not None:
        return Path(session.folder)
    return Path(session.state.run_dir) if session.state.run_dir else None


def inside(folder: Path, root: Path) -> str | None:
    """``folder`` relative to ``root`` (as the leader file names it), or None if outside it."""
    try:
        return Path(folder).resolve().relative_to(Path(root).resolve()).as_posix()
    except (OSError, ValueError):
        return None


def current_view(app) -> LeaderView | None:
    """What the app shows now: its top dashboard's run, pane and metric (all None: no dashboard;
    None: a dashboard still being built)."""
    shown = dashboards(app)
    if not shown:
        return LeaderView(None, None, None)
    dashboard = shown[-1]
    try:
        pane = dashboard.query_one(TabbedContent).active or None
    except NoMatches:
        return None
    folder = session_folder(dashboard.session)
    run = inside(folder, app.runs_root) if folder is not None else None
    return LeaderView(run, pane, dashboard.tag)


class Leader:
    """Writes the app's view to the leader file whenever it changes."""

    def __init__(self, app) -> None:
        self.app = app
        self.written: LeaderView | None = None
        self.warned = False

    def start(self) -> None:
        self.app.set_interval(PERIOD_S, self.publish)
        self.publish()

    def publish(self) -> None:
        view = current_view(self.app)
        if view is None or view == self.written:
            return
        try:
            write_view(self.app.runs_root, view)
        except OSError as exc:
            if not self.warned:  # once: the lab goes on without leading
                self.warned = True
                self.app.notify(f"cannot write the leader file in {self.app.runs_root}: {exc.strerror or exc}", severity="warning", markup=False)
            return
        self.written = view

    def stop(self) -> None:
        remove_view(self.app.runs_root)


class Follower:
    """Shows what the leader file says while following; ``toggle`` lets the student browse."""

    def __init__(self, app) -> None:
        self.app = app
        self.following = True
        self.watcher = LeaderFileWatcher(app.runs_root)
        self._opening: tuple[Path, float] | None = None
        self._base_titles: WeakKeyDictionary = WeakKeyDictionary()

    def start(self) -> None:
        self.app.set_interval(PERIOD_S, self.tick)

    def toggle(self) -> None:
        self.following = not self.following
        self.app.refresh_bindings()
        self.tick()

    def tick(self) -> None:
        self.watcher.poll()
        self._show_mode()
        if self.following and self.watcher.view is not None:
            self.apply(self.watcher.view)

    def _show_mode(self) -> None:
        """The header's sub-title ends with the mode (each screen keeps its own first part)."""
        screen = self.app.screen
        if screen.is_modal:
            return
        if screen not in self._base_titles:
            self._base_titles[screen] = screen.sub_title or ""
        base = self._base_titles[screen]
        badge = FOLLOWING if self.following else BROWSING
        wanted = f"{base} · {badge}" if base else badge
        if screen.sub_title != wanted:
            screen.sub_title = wanted

    def apply(self, view: LeaderView) -> None:
        app = self.app
        screen = app.screen
        if screen.is_modal:  # a chooser or the help is open: the student closes it first
            return
        if view.run is None:
            if isinstance(screen, DashboardScreen) and len(app.screen_stack) > 2:
                app.pop_screen()  # the teacher went back to the runs list
            return
        target = self._target(view.run)
        if target is None:  # not a run folder inside the watched folder: not followed
            return
        folder = session_folder(screen.session) if isinstance(screen, DashboardScreen) else None
        if folder is None or folder.resolve() != target.resolve():
            if self._opening is not None and self._opening[0] == target and time.monotonic() - self._opening[1] < OPEN_PATIENCE_S:
                return  # being opened: the screen has not come up yet
            while len(app.screen_stack) > 2 and not isinstance(app.screen_stack[-1], RunsScreen):
                app.pop_screen()
            self._opening = (target, time.monotonic())
            app.open_folders([target])
            return
        if screen.redraw_count == 0:  # pushed, not drawn yet: its tabs may not exist yet
            return
        self._opening = None
        try:
            tabs = screen.query_one(TabbedContent)
            if view.pane in PANE_IDS and tabs.active != view.pane:
                tabs.active = view.pane
        except (NoMatches, ValueError):  # a pane still being built: the next poll sets it
            return
        if view.metric and view.metric != screen.tag and view.metric in screen.session.state.tags():
            screen.show_metric(view.metric)

    def _target(self, run: str | None) -> Path | None:
        """The run folder the leader shows, if it is a run folder inside the watched folder."""
        if not run:
            return None
        target = self.app.runs_root / run
        if inside(target, self.app.runs_root) is None or not is_run_dir(target):
            return None
        return target
