"""The command line: ``plastilab`` (the lab), ``list``, ``validate``, ``run``, ``report``,
``watch``, ``serve``, ``export``, ``figures`` (each family of commands in ``plastilab/commands/``).

Heavy libraries (torch, textual, matplotlib) are imported only inside the engine functions that
use them, so ``--help``, ``list`` and ``validate`` never load torch.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import Abort, TyperException

from plastilab.commands import results, run, scenario_files, viewers
from plastilab.core.safe_text import shown
from plastilab.runtime.signals import StopSignal
from plastilab.tui.launch import run_app

app = typer.Typer(
    help="A terminal laboratory for loss of plasticity in neural networks.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_INTERRUPTED = 130


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
    run_app(scenarios or [], runs, lead=lead)


# In the order ``--help`` lists them.
app.command("list")(scenario_files.list_command)
app.command()(scenario_files.validate)
app.command()(run.run)
app.command()(results.report)
app.command()(viewers.watch)
app.command()(viewers.serve)
app.command("export")(results.export_command)
app.command("figures")(results.figures_command)


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
