"""``plastilab run``: a scenario or a study headless, or a run or study resumed, and its exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from plastilab.commands.fail import fail
from plastilab.core.errors import PlastilabError
from plastilab.runtime.preflight import NO_MEMORY_CHECK_ENV
from plastilab.core.safe_text import is_plain
from plastilab.core.scenario_file import load_scenario
from plastilab.headless.run import resume_headless, run_headless
from plastilab.headless.study_run import run_study_command
from plastilab.studies.folder import is_study_dir
from plastilab.studies.study_file import is_study_file


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
        _end_headless(lambda: resume_headless(resume, quiet=quiet, threads=threads))
    if resume is not None or (file is not None and is_study_file(file)):
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
