"""``plastilab list`` and ``plastilab validate``: the scenario files there are, and whether one is right."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from plastilab.commands.fail import fail
from plastilab.core.catalog import format_rough_duration, list_scenarios
from plastilab.core.errors import PlastilabError
from plastilab.runtime.preflight import check_memory
from plastilab.core.safe_text import shown
from plastilab.core.scenario_file import load_scenario
from plastilab.studies.populations import describe_plan
from plastilab.studies.study_file import check_study, is_study_file, load_study_plan


def list_command(
    scenarios: Annotated[Optional[list[Path]], typer.Option("--scenarios", help="Another folder of scenario files.")] = None,
) -> None:
    """List the built-in scenarios: name, estimated CPU time, description."""
    entries = list_scenarios(scenarios or [])
    if not entries:
        fail("no scenario files found; pass --scenarios DIR or set PLASTILAB_SCENARIOS")
    names = [shown(e.path.name) for e in entries]
    width = max(len(name) for name in names)
    for name, e in zip(names, entries):
        print(f"{name:<{width}}  {format_rough_duration(e.estimated_cpu_seconds):>7}  {e.description}")


def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    no_memory_check: Annotated[bool, typer.Option("--no-memory-check", help="Skip the check that a run fits in this machine's free RAM.")] = False,
) -> None:
    """Check scenario files against their schema, and that a run fits in memory; one line per problem."""
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
