"""The command line: ``plastilab`` (the lab), ``list``, ``validate``, ``run``, ``report``,
``watch``, ``serve``, ``export``, ``figures``.

Heavy imports (torch, textual) happen inside the commands that need them, so ``--help``,
``list`` and ``validate`` answer at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import Abort, TyperException

from plastilab.core.errors import PlastilabError
from plastilab.core.safe_text import is_plain, shown
from plastilab.runtime.signals import StopSignal

app = typer.Typer(
    help="A terminal laboratory for loss of plasticity in neural networks.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_INTERRUPTED = 130


def fail(error: PlastilabError | str, code: int = 2) -> None:
    """Print one line on stderr and exit: bad input never shows a traceback."""
    print(f"plastilab: {shown(error)}", file=sys.stderr)
    raise typer.Exit(getattr(error, "exit_code", code))


@app.callback(invoke_without_command=True)
def lab(
    ctx: typer.Context,
    scenarios: Annotated[Optional[list[Path]], typer.Option("--scenarios", help="Another folder of scenario files (repeatable).")] = None,
    runs: Annotated[Path, typer.Option("--runs", help="Folder of past runs.")] = Path("runs"),
    lead: Annotated[bool, typer.Option("--lead", help="Presenter mode: students following --runs (serve --ssh --follow, watch --follow) see what this lab shows.")] = False,
) -> None:
    """Open the interactive lab (no subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    from plastilab.tui.launch import run_app

    run_app(scenarios or [], runs, lead=lead)


@app.command("list")
def list_command(
    scenarios: Annotated[Optional[list[Path]], typer.Option("--scenarios", help="Another folder of scenario files.")] = None,
) -> None:
    """List the built-in scenarios: name, estimated CPU time, description."""
    from plastilab.core.catalog import format_rough_duration, list_scenarios

    entries = list_scenarios(scenarios or [])
    if not entries:
        fail("no scenario files found; pass --scenarios DIR or set PLASTILAB_SCENARIOS")
    names = [shown(e.path.name) for e in entries]
    width = max(len(name) for name in names)
    for name, e in zip(names, entries):
        print(f"{name:<{width}}  {format_rough_duration(e.estimated_cpu_seconds):>7}  {e.description}")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    no_memory_check: Annotated[bool, typer.Option("--no-memory-check", help="Skip the check that a run fits in this machine's free RAM.")] = False,
) -> None:
    """Check scenario files against their schema, and that a run fits in memory; one line per problem."""
    from plastilab.runtime.preflight import check_memory
    from plastilab.core.scenario_file import load_scenario

    from plastilab.studies.study_file import check_study, is_study_file, load_study_plan

    bad = 0
    for path in files:
        if is_study_file(path):  # a study: its base and every trial's resolved scenario
            try:
                study = load_study_plan(path)
                scenarios = check_study(study)
                for scenario in scenarios:
                    if not no_memory_check and scenario.config.device in ("auto", "cpu"):
                        check_memory(scenario, "cpu")
            except PlastilabError as exc:
                print(f"plastilab: {exc}", file=sys.stderr)
                bad += 1
            else:
                from plastilab.studies.populations import describe_plan

                print(f"{path}: ok (study, {len(study.trials)} trials of {study.base.get('kind')}; {describe_plan(study, scenarios)})")
            continue
        try:
            scenario = load_scenario(path)
            if not no_memory_check and scenario.config.device in ("auto", "cpu"):
                check_memory(scenario, "cpu")  # a GPU's memory is checked when the run starts
        except PlastilabError as exc:
            print(f"plastilab: {shown(exc)}", file=sys.stderr)
            bad += 1
        else:
            print(f"{shown(path)}: ok ({scenario.config.kind}, {len(scenario.config.series())} series, {scenario.config.total_steps()} steps)")
    if bad:
        raise typer.Exit(2)


@app.command()
def run(
    file: Annotated[Optional[Path], typer.Argument(help="A scenario or study file, e.g. scenarios/adam-quick.toml.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a key: --set training.lr=3e-4 (repeatable).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Override the scenario's seed.")] = None,
    seeds: Annotated[Optional[str], typer.Option(help="Seeds to run: a count (3: seed, seed+1, seed+2) or a list (0,4,7).")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto | cpu | cuda | mps (auto picks the best available).")] = None,
    out: Annotated[Optional[str], typer.Option("--out", help="Root folder for run folders (default: runs/).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no report; print only the run folder.")] = False,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for torch; overrides the scenario's threads key (default 1). Metrics repeat exactly only at the same count.", min=1)] = None,
    executor: Annotated[str, typer.Option(help="Studies: local (a pool of worker processes) | ray.")] = "local",
    address: Annotated[Optional[str], typer.Option(help="Studies, --executor ray: an existing cluster's address (default: a local Ray).")] = None,
    resume: Annotated[Optional[Path], typer.Option(help="A run folder: continue it from its checkpoint (checkpoint_every). A study folder: finish it (reruns every trial not finished).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Studies: trials at once (default: one per core).", min=1)] = None,
    population_size: Annotated[Optional[int], typer.Option(help="Studies: trials trained together as one run (default: from the memory estimate and the workers; 1: each alone).")] = None,
    gpus_per_trial: Annotated[Optional[float], typer.Option(help="Studies, --executor ray, device cuda: GPUs a trial asks for (0.25: four trials share a card).")] = None,
    no_memory_check: Annotated[bool, typer.Option("--no-memory-check", help="Run even if the estimated memory exceeds what the machine has free.")] = False,
) -> None:
    """Run a scenario or a study headless: progress on stderr, run folders with every number, a report."""
    from plastilab.runtime.preflight import NO_MEMORY_CHECK_ENV
    from plastilab.core.scenario_file import load_scenario
    from plastilab.studies.folder import is_study_dir
    from plastilab.studies.study_file import is_study_file

    out_dir = check_out(out)
    if no_memory_check:
        os.environ[NO_MEMORY_CHECK_ENV] = "1"  # preflight reads it, here or in a child process
    packing = "--population-size" if population_size is not None else "--gpus-per-trial" if gpus_per_trial is not None else None
    if packing and not (is_study_dir(resume) if resume is not None else file is not None and is_study_file(file)):
        fail(f"{packing}: only for a study file or --resume STUDY_DIR")
    if resume is not None and not is_study_dir(resume):
        if file is not None or set_ or seed is not None or seeds or device:
            fail(f"--resume {resume}: a resumed run keeps the scenario it started with; give the run folder alone")
        if out is not None:
            fail(f"--out {out}: a resumed run goes on in its own folder ({resume}); drop --out")
        from plastilab.headless.run import resume_headless

        _end_headless(lambda: resume_headless(resume, quiet=quiet, threads=threads))
    if resume is not None or (file is not None and is_study_file(file)):
        from plastilab.headless.study_run import run_study_command

        if seed is not None:
            fail("--seed: a study's seeds are its seeds key; use --set study.seeds=[0, 1, 2]")
        device_set = [f"device={device}"] if device else []
        device_set += [f"threads={threads}"] if threads else []
        try:
            code = run_study_command(
                file, overrides=(set_ or []) + device_set, out=out_dir, executor=executor, address=address, resume=resume,
                workers=workers, quiet=quiet, population_size=population_size, gpus_per_trial=gpus_per_trial,
            )
        except PlastilabError as exc:
            fail(exc)
        raise typer.Exit(code)
    if file is None:
        fail("run: name a scenario or study file (or --resume STUDY_DIR)")
    try:
        scenario = load_scenario(file, set_ or [], seed=seed, seeds=parse_seeds(seeds, file), device=device, threads=threads)
    except PlastilabError as exc:
        fail(exc)
    from plastilab.headless.run import run_headless

    _end_headless(lambda: run_headless(scenario, out=out_dir, quiet=quiet))


def _end_headless(start) -> None:
    """Run a headless run (or resume one) and exit with its code, its failure in one line."""
    try:
        outcome = start()
    except PlastilabError as exc:
        fail(exc)
    if outcome.state == "failed":
        fail(outcome.error or "the run failed", code=1)  # a str: exit 1
    if outcome.state == "interrupted" or outcome.signal is not None:
        why = f"stopped by {outcome.stopped_by}" if outcome.signal is not None else "interrupted"
        ended = "" if outcome.state == "interrupted" else f" after the run {outcome.state}"
        print(f"plastilab: {why}{ended}; what was written is in {outcome.run_dir}", file=sys.stderr)
    raise typer.Exit(outcome.exit_code)


def parse_seeds(text: str | None, file: Path) -> int | list[int] | None:
    """``--seeds 3`` -> 3; ``--seeds 0,4,7`` -> [0, 4, 7]; the schema checks the ranges."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() for part in parts):
        fail(f"{file}: --seeds {text!r}: expected a count (--seeds 3) or a list of seeds (--seeds 0,4,7)")
    values = [int(part) for part in parts]
    return values if "," in text else values[0]


def check_out(out: str | None) -> Path | None:
    """``--out`` as a folder, or one line saying why not (before any run folder is made)."""
    if out is None:
        return None
    if not out.strip():
        fail("--out: found an empty name; give a folder, e.g. --out runs")
    if not is_plain(out):
        fail(f"--out {out!r}: a folder name without control characters or line breaks, please")
    path = Path(out)
    if path.exists() and not path.is_dir():
        fail(f"--out {out}: exists and is not a folder; choose a folder for run folders")
    return path


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    scatter: Annotated[Optional[str], typer.Option("--scatter", help="Studies: draw this statistic against plasticity loss, or `all` of them.")] = None,
    colour_by: Annotated[Optional[str], typer.Option("--colour-by", "--color-by", help="Studies: the axis that colours the scatter (e.g. env.rewards, seed).")] = None,
) -> None:
    """Print a run folder's summary table and learning curves, or a study's aggregate tables."""
    from plastilab.headless.report import print_report
    from plastilab.rundir.layout import is_run_dir
    from plastilab.studies.folder import is_study_dir

    if is_study_dir(run_dir):  # a study folder: its aggregate tables
        from plastilab.headless.study_report import print_study_report

        try:
            print_study_report(run_dir, refresh=True, scatter=scatter, colour_by=colour_by)
        except PlastilabError as exc:
            fail(exc)
        return
    if scatter is not None or colour_by is not None:
        fail(f"--scatter/--colour-by: only for a study folder; {run_dir} is not one")
    if not is_run_dir(run_dir):
        fail(f"{run_dir}: not a run folder (no status.json or metrics.jsonl)")
    print_report(run_dir)


@app.command()
def watch(
    run_dir: Annotated[Path, typer.Argument(help="A run folder that `plastilab run` is writing, a study folder, or a folder of runs to watch read-only.")],
    lead: Annotated[bool, typer.Option("--lead", help="Presenter mode, a folder of runs: viewers started with --follow show what this one shows.")] = False,
    follow: Annotated[bool, typer.Option("--follow", help="Presenter mode, a folder of runs: show what the --lead viewer shows (b: browse freely / follow again).")] = False,
) -> None:
    """Attach the dashboard to a run folder another process is writing (tails its files); given a
    folder of runs, open a read-only lab over all of them (runs list and live dashboards)."""
    from plastilab.rundir.layout import is_run_dir
    from plastilab.studies.folder import is_study_dir

    if lead and follow:
        fail("--lead and --follow: a viewer leads or follows; choose one")
    if (lead or follow) and (is_study_dir(run_dir) or is_run_dir(run_dir)):
        fail(f"--{'lead' if lead else 'follow'}: presenter mode works on a folder of runs (e.g. runs/); {run_dir} is one run or study")
    if is_study_dir(run_dir):  # a study folder: its study view, read-only
        from plastilab.tui.launch import watch_study

        watch_study(run_dir)
    elif is_run_dir(run_dir):
        from plastilab.tui.launch import watch as watch_run

        watch_run(run_dir)
    elif run_dir.is_dir():
        from plastilab.tui.launch import watch_runs

        watch_runs(run_dir, lead=lead, follow=follow)
    else:
        fail(f"{run_dir}: not a run folder (no status.json or metrics.jsonl) nor a folder of runs")


@app.command()
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
    from plastilab.tui.launch import serve as serve_app

    app_args = ["watch", str(watch), *(["--follow"] if follow else [])] if watch is not None else None
    try:
        serve_app(host, 8000 if port is None else port, app_args, token=token, max_sessions=4 if max_sessions is None else max_sessions)
    except PlastilabError as exc:
        fail(exc)


def _serve_ssh(host, port, max_sessions, watch, authorized_keys, password, no_auth, host_key, idle_timeout, follow) -> None:
    """``serve --ssh --watch RUNS_DIR``: the SSH classroom (plastilab/classroom/)."""
    if watch is None:
        fail("--ssh: serves the read-only lab over a folder of runs; add --watch RUNS_DIR (e.g. --watch runs)")
    from plastilab.classroom.ssh_server import ClassroomSettings, import_asyncssh, serve_ssh

    try:
        import_asyncssh()
        from plastilab.classroom.host_key import load_or_create_host_key
        from plastilab.classroom.ssh_access import plan_access

        access = plan_access(host, authorized_keys, password, no_auth)
        key = load_or_create_host_key(host_key)
        settings = ClassroomSettings(watch, host, port, access, max_sessions=max_sessions, idle_timeout_s=idle_timeout, follow=follow)
        serve_ssh(settings, key)
    except PlastilabError as exc:
        fail(exc)


@app.command("export")
def export_command(
    source: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    to: Annotated[str, typer.Option("--to", help="tensorboard | csv | parquet")],
    out: Annotated[Path, typer.Argument(help="Folder to write into (created if missing).")],
) -> None:
    """Export a run or a study: TensorBoard event files, or tidy CSV / Parquet tables."""
    from plastilab.analysis.export import export

    try:
        written = export(source, to, out, warn=lambda line: print(f"plastilab: {line}", file=sys.stderr))
    except PlastilabError as exc:
        fail(exc)
    from plastilab.core.safe_text import shown

    print(f"{shown(out)}: {len(written)} {'TensorBoard runs' if to == 'tensorboard' else 'tables'} written")
    if to == "tensorboard":
        print(f"view them with: tensorboard --logdir {shown(out)}")


@app.command("figures")
def figures_command(
    source: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the figures (default: SOURCE/figures).")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: png, svg, pdf.")] = "png",
    each_seed: Annotated[bool, typer.Option("--each-seed", help="Each seed as a thin line under the mean.")] = False,
) -> None:
    """Draw the paper's figures of a run or a study with matplotlib."""
    from plastilab.analysis.figures import draw_figures, parse_formats

    try:
        written = draw_figures(source, out, parse_formats(formats), each_seed=each_seed)
    except PlastilabError as exc:
        fail(exc)
    if not written:
        fail(f"{source}: nothing to draw yet (no task/, train/loss, probe, Hessian or covariance numbers)")
    for path in written:
        print(path)


def main(argv: list[str] | None = None) -> None:
    """The ``plastilab`` command. A usage mistake (an unknown option, ``--port abc``) is one line
    on stderr and exit 2, like every other piece of bad input, not click's usage box."""
    try:
        code = app(args=argv, standalone_mode=False)
    except Abort as exc:  # Ctrl-C, SIGTERM or SIGHUP before a run folder existed
        stop = exc.__cause__ or exc.__context__
        code = getattr(stop, "exit_code", EXIT_INTERRUPTED)
        print(f"plastilab: stopped by {stop}" if isinstance(stop, StopSignal) else "plastilab: interrupted", file=sys.stderr)
    except TyperException as exc:  # click's usage errors (typer vendors click)
        hint = "; see `plastilab --help`" if exc.exit_code == 2 else ""
        print(f"plastilab: {shown(exc.format_message())}{hint}", file=sys.stderr)
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)
