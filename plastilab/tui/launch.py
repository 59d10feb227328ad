"""The CLI's doors into the lab. Textual is imported inside each function, so ``--help`` stays fast."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from plastilab.core.catalog import builtin_scenario_dir
from plastilab.core.errors import PlastilabError
from plastilab.rundir.layout import is_run_dir


def run_app(scenarios_dirs: list[Path] | None = None, runs_root: Path = Path("runs"), lead: bool = False) -> None:
    """``plastilab``: the picker over the built-in scenarios plus any ``--scenarios DIR``;
    ``lead``: students' labs following ``runs_root`` show what this one shows (presenter mode)."""
    from plastilab.tui.app import PlastilabApp  # deferred: pulls in textual

    dirs = [builtin_scenario_dir(), *(scenarios_dirs or [])]
    PlastilabApp(scenarios_dirs=dirs, runs_root=runs_root, lead=lead).run()


def watch(run_dir: Path) -> None:
    """``plastilab watch RUN_DIR``: the dashboard over a run folder another process is writing."""
    from plastilab.tui.app import PlastilabApp  # deferred: pulls in textual

    run_dir = Path(run_dir)
    if not is_run_dir(run_dir) and not (run_dir / "meta.json").is_file():
        error = PlastilabError(f"{run_dir}: not a run folder (no status.json or metrics.jsonl); `plastilab` lists past runs under runs/")
        error.exit_code = 2
        raise error
    PlastilabApp(watch_dir=run_dir, runs_root=run_dir.parent.parent).run()


def watch_runs(runs_dir: Path, lead: bool = False, follow: bool = False) -> None:
    """``plastilab watch RUNS_DIR``: a read-only lab over a folder of runs (the classroom's viewer).

    The runs list refreshes as runs appear; a running one opens as a followed dashboard. No picker,
    and nothing that starts, pauses, stops or reruns a run: any number of viewers may watch.
    ``lead`` publishes this viewer's view (the teacher's); ``follow`` shows the leader's view until
    the viewer presses b (tui/presenter.py)."""
    from plastilab.tui.app import PlastilabApp  # deferred: pulls in textual

    PlastilabApp(runs_root=Path(runs_dir), read_only=True, lead=lead, follow=follow).run()


def watch_study(study_dir: Path) -> None:
    """``plastilab watch STUDY_DIR``: the study view over a study folder, read-only (no stop): its
    trials' states and steps, the aggregate so far; Enter opens a trial's dashboard."""
    from plastilab.tui.app import PlastilabApp  # deferred: pulls in textual

    study_dir = Path(study_dir)
    PlastilabApp(runs_root=study_dir.parent.parent, read_only=True, study_dir=study_dir).run()


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    app_args: list[str] | None = None,
    *,
    token: str | None = None,
    max_sessions: int = 4,
) -> None:
    """``plastilab serve``: the lab in a browser through textual-serve, on 127.0.0.1 unless told,
    behind a secret token (a fresh one unless given), an Origin check and a cap on sessions.

    Raises a one-line ``PlastilabError`` for a bad host, port or token, or a port in use.
    """
    from plastilab.tui.guarded_server import GuardedServer, new_token  # deferred: pulls in textual_serve

    command = shlex.join([sys.executable, "-m", "plastilab", *(app_args or [])])
    server = GuardedServer(command, host=host, port=port, token=token or new_token(), max_sessions=max_sessions, title="plastilab")
    server.serve()
