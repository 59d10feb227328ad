"""``plastilab report``, ``export`` and ``figures``: what a run or a study found, as a table, as
files for other tools, or as the paper's figures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from plastilab.analysis.export import export
from plastilab.analysis.figures import draw_figures, parse_formats
from plastilab.commands.fail import fail
from plastilab.core.errors import PlastilabError
from plastilab.core.safe_text import shown
from plastilab.headless.report import print_report
from plastilab.headless.study_report import print_study_report
from plastilab.rundir.layout import is_run_dir
from plastilab.studies.folder import is_study_dir


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    scatter: Annotated[Optional[str], typer.Option("--scatter", help="Studies: draw this statistic against plasticity loss, or `all` of them.")] = None,
    colour_by: Annotated[Optional[str], typer.Option("--colour-by", "--color-by", help="Studies: the axis that colours the scatter (e.g. env.rewards, seed).")] = None,
) -> None:
    """Print a run folder's summary table and learning curves, or a study's aggregate tables."""
    if is_study_dir(run_dir):  # a study folder: its aggregate tables
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


def export_command(
    source: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    to: Annotated[str, typer.Option("--to", help="tensorboard | csv | parquet")],
    out: Annotated[Path, typer.Argument(help="Folder to write into (created if missing).")],
) -> None:
    """Export a run or a study: TensorBoard event files, or tidy CSV / Parquet tables."""
    try:
        written = export(source, to, out, warn=lambda line: print(f"plastilab: {line}", file=sys.stderr))
    except PlastilabError as exc:
        fail(exc)
    print(f"{shown(out)}: {len(written)} {'TensorBoard runs' if to == 'tensorboard' else 'tables'} written")
    if to == "tensorboard":
        print(f"view them with: tensorboard --logdir {shown(out)}")


def figures_command(
    source: Annotated[Path, typer.Argument(help="A run folder or a study folder.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the figures (default: SOURCE/figures).")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: png, svg, pdf.")] = "png",
    each_seed: Annotated[bool, typer.Option("--each-seed", help="Each seed as a thin line under the mean.")] = False,
) -> None:
    """Draw the paper's figures of a run or a study with matplotlib."""
    try:
        written = draw_figures(source, out, parse_formats(formats), each_seed=each_seed)
    except PlastilabError as exc:
        fail(exc)
    if not written:
        fail(f"{source}: nothing to draw yet (no task/, train/loss, probe, Hessian or covariance numbers)")
    for path in written:
        print(path)
