"""The lab's studies: start one (its runner in a spawned process, one study at a time), open a
study folder's view, come back to the running one (the app stops them all when it quits)."""

from __future__ import annotations

from pathlib import Path

from plastilab.studies.background import StudyProcess
from plastilab.tui.screens.study_view import StudyViewScreen


def open_study_view(app, study_dir: Path) -> StudyViewScreen:
    """Show the study in ``study_dir``, with its process when this app started it."""
    study_dir = Path(study_dir)
    process = next((p for p in study_processes(app) if p.study_dir is not None and p.study_dir.resolve() == study_dir.resolve()), None)
    screen = StudyViewScreen(study_dir, process)
    app.push_screen(screen)
    return screen


def start_study(app, study_path: Path, overrides: list[str] | None = None) -> StudyViewScreen | None:
    """Start the study in a spawned process (one study at a time) and show its view."""
    if getattr(app, "read_only", False):
        app.notify("a read-only view starts no studies", severity="warning")
        return None
    running = [p for p in study_processes(app) if p.is_alive()]
    if running:
        app.notify(f"a study is still running ({running[0].study_path.name}); stop it first", severity="warning", markup=False)
        return None
    process = StudyProcess(study_path, app.runs_root, overrides)
    process.start()  # from the UI thread: the parent-death signal follows the thread that forked
    study_processes(app).append(process)
    screen = StudyViewScreen(None, process)
    app.push_screen(screen)
    return screen


def show_running_study(app) -> bool:
    """Back to the view of the study this app is running, if one is; False if none is."""
    process = next((p for p in study_processes(app) if p.is_alive()), None)
    if process is None:
        return False
    app.push_screen(StudyViewScreen(process.study_dir, process))
    return True


def study_processes(app) -> list[StudyProcess]:
    if not hasattr(app, "study_processes"):
        app.study_processes = []
    return app.study_processes
