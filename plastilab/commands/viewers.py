"""``plastilab watch`` and ``plastilab serve``: the lab over a folder another process writes, and
the lab served to browsers or, read-only, to students' ssh clients."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from plastilab.classroom.host_key import load_or_create_host_key
from plastilab.classroom.ssh_access import plan_access
from plastilab.classroom.ssh_server import ClassroomSettings, import_asyncssh, serve_ssh
from plastilab.commands.fail import fail
from plastilab.core.errors import PlastilabError
from plastilab.rundir.layout import is_run_dir
from plastilab.studies.folder import is_study_dir
from plastilab.tui.launch import serve as serve_app
from plastilab.tui.launch import watch as watch_run
from plastilab.tui.launch import watch_runs, watch_study


def watch(
    run_dir: Annotated[Path, typer.Argument(help="A run folder that `plastilab run` is writing, a study folder, or a folder of runs to watch read-only.")],
    lead: Annotated[bool, typer.Option("--lead", help="Presenter mode, a folder of runs: viewers started with --follow show what this one shows.")] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Presenter mode, a folder of runs: show what the --lead viewer shows (b: browse freely / follow again).")] = False,
) -> None:
    """Attach the dashboard to a run folder another process is writing (tails its files); given a
    folder of runs, open a read-only lab over all of them (runs list and live dashboards)."""
    if lead and follow:
        fail("--lead and --follow: a viewer leads or follows; choose one")
    if (lead or follow) and (is_study_dir(run_dir) or is_run_dir(run_dir)):
        fail(f"--{'lead' if lead else 'follow'}: presenter mode works on a folder of runs (e.g. runs/); {run_dir} is one run or study")
    if is_study_dir(run_dir):  # a study folder: its study view, read-only
        watch_study(run_dir)
    elif is_run_dir(run_dir):
        watch_run(run_dir)
    elif run_dir.is_dir():
        watch_runs(run_dir, lead=lead, follow=follow)
    else:
        fail(f"{run_dir}: not a run folder (no status.json or metrics.jsonl) nor a folder of runs")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; the default keeps it on this machine. Any other address is reachable by others: a warning says so.")] = "127.0.0.1",
    port: Annotated[Optional[int], typer.Option(help="Port (1-65535; default 8000, or 2222 with --ssh).")] = None,
    token: Annotated[Optional[str], typer.Option(help="The secret the page and its websocket must carry (default: a fresh random one, printed once with the URL).")] = None,
    max_sessions: Annotated[Optional[int], typer.Option("--max-sessions", help="Most sessions (each a lab process) at once (default 4, or 50 with --ssh).")] = None,
    watch: Annotated[Optional[Path], typer.Option("--watch", help="Serve a read-only lab over this folder of runs (a classroom: viewers cannot start or stop runs).")] = None,
    ssh: Annotated[bool, typer.Option("--ssh", help="Serve the read-only lab (--watch) over SSH: students connect with their own ssh client.")] = False,
    authorized_keys: Annotated[Optional[Path], typer.Option("--authorized-keys", help="--ssh: students' public keys, one per line (with it, no password unless --password).")] = None,
    password: Annotated[bool, typer.Option("--password", help="--ssh: also let students in with a classroom password, drawn and printed at start (the default without --authorized-keys).")] = False,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="--ssh: anyone who reaches the port may enter; refused unless --host is a loopback address.")] = False,
    host_key: Annotated[Optional[Path], typer.Option("--host-key", help="--ssh: the server's private host key (made if missing; default: kept in ~/.config/plastilab/).")] = None,
    idle_timeout: Annotated[float, typer.Option("--idle-timeout", help="--ssh: end a session after this many seconds with no key pressed (default: two hours, a long lesson).", min=1)] = 7200.0,
    follow: Annotated[bool, typer.Option("--follow", help="Presenter mode: every viewer follows the view of `plastilab --lead` or `plastilab watch --lead` on the same folder (b: browse freely / follow again).")] = False,
) -> None:
    """Serve the lab to a browser through textual-serve, behind a secret token; or, with --ssh,
    the read-only lab over a folder of runs to students' ssh clients."""
    if watch is not None and not watch.is_dir():
        fail(f"--watch {watch}: not a folder; give the folder of runs to watch (e.g. runs/)")
    if follow and watch is None:
        fail("--follow: students follow the teacher in a read-only lab; add --watch RUNS_DIR")
    if ssh:
        if token is not None:
            fail("--token: the browser lab's secret; with --ssh students enter with --authorized-keys or the drawn password")
        _serve_ssh(host, 2222 if port is None else port, 50 if max_sessions is None else max_sessions, watch, authorized_keys, password, no_auth, host_key, idle_timeout, follow)
        return
    for name, given in (("--authorized-keys", authorized_keys), ("--password", password), ("--no-auth", no_auth), ("--host-key", host_key)):
        if given:
            fail(f"{name}: only with --ssh (the browser lab is behind --token)")
    app_args = ["watch", str(watch), *(["--follow"] if follow else [])] if watch is not None else None
    try:
        serve_app(host, 8000 if port is None else port, app_args, token=token, max_sessions=4 if max_sessions is None else max_sessions)
    except PlastilabError as exc:
        fail(exc)


def _serve_ssh(host, port, max_sessions, watch, authorized_keys, password, no_auth, host_key, idle_timeout, follow) -> None:
    """``serve --ssh --watch RUNS_DIR``: the SSH classroom (plastilab/classroom/)."""
    if watch is None:
        fail("--ssh: serves the read-only lab over a folder of runs; add --watch RUNS_DIR (e.g. --watch runs)")
    try:
        import_asyncssh()
        access = plan_access(host, authorized_keys, password, no_auth)
        key = load_or_create_host_key(host_key)
        settings = ClassroomSettings(watch, host, port, access, max_sessions=max_sessions, idle_timeout_s=idle_timeout, follow=follow)
        serve_ssh(settings, key)
    except PlastilabError as exc:
        fail(exc)
