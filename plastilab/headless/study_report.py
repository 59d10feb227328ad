"""``plastilab report STUDY_DIR``: the study's counts and aggregate tables as plain text, and a
terminal scatter of plasticity against the statistic that tracks it best. The analysis's own
sections come from the study's analysis (``studies.analyses``); this face only prints them."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

from plastilab.core.errors import ScenarioError
from plastilab.core.safe_text import shown as shown_path
from plastilab.rundir import safe_files
from plastilab.studies import folder
from plastilab.studies.aggregate import aggregate_study
from plastilab.studies.analyses import analysis_for
from plastilab.studies.analyses.report_text import fmt, interval
from plastilab.studies.ledger import read_ledger_counted
from plastilab.studies.scatter import choose, colour_axes, default_colour, scatter_groups


def print_study_report(study_dir: str | Path, refresh: bool = False, out=None, scatter: str | None = None, colour_by: str | None = None) -> None:
    """The study's tables; ``scatter``: a statistic's scatter, or ``all`` of them (default: the
    best-tracking one on a terminal); ``colour_by``: the axis that colours it."""
    out = out or sys.stdout
    study_dir = Path(study_dir)
    if refresh:  # report on a running or resumed study: rebuild from what is on disk now
        aggregate_study(study_dir)
    check_scatter_options(study_dir, scatter, colour_by)  # before any output: one line, exit 2
    skipped = read_ledger_counted(study_dir / folder.LEDGER)[1]
    if skipped:  # a damaged ledger: the counts below leave those lines out, and say so
        print(f"{shown_path(study_dir / folder.LEDGER)}: {skipped} unreadable line{'s' if skipped != 1 else ''} skipped; "
              f"the trials they recorded are not counted below", file=out)
    summary = safe_files.read_json(study_dir / folder.SUMMARY)
    if not isinstance(summary, dict):
        print(f"{study_dir}: no aggregate yet (no trial finished)", file=out)
        return
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.get("counts", {}).items()))
    print(f"study {summary['study']} ({summary['analysis']}): {summary['trials']} trials: {counts}; "
          f"{summary['rows']} trial-checkpoints; plasticity tag {summary.get('target') or '-'}", file=out)
    analysis = analysis_for(summary.get("analysis"))
    sections = analysis.report_sections(summary)
    for section in sections:
        print(f"\n{section.heading}", file=out)
        for line in section.lines:
            print(line, file=out)
    if sections and analysis.scatter_in_report and summary.get("correlations"):
        _scatter(study_dir, summary, out, scatter, colour_by)
    if summary.get("axes"):
        print(f"\nFinal values per axis value (mean ± 95% half-width, {summary['interval']}):", file=out)
        for row in summary["axes"]:
            where = "all trials" if row["axis"] == "(all)" else f"{row['axis']}={row['value']}"
            print(f"  {where:<34} {row['tag']:<26} n={row['n']:<3} {interval(row['mean'], row['low'], row['high'])}", file=out)
    if summary.get("rl_aggregate"):
        _print_rl_aggregate(summary["rl_aggregate"], out)
    print(f"\nfiles: {', '.join(summary.get('files', []))} in {study_dir}", file=out)


def _print_rl_aggregate(rl: dict[str, Any], out) -> None:
    """Agarwal et al. (2021): aggregates of human-normalised scores across games and seeds."""
    print(f"\n{rl['tag']} across {len(rl['games'])} games ({', '.join(rl['games'])}); {rl['interval']}:", file=out)
    print(f"  {'algorithm':<36} {'runs':>4}  {'IQM':<22} {'median':<22} {'mean':<22} {'optimality gap':<22}", file=out)
    for name, row in rl["algorithms"].items():
        cells = [f"{fmt(row[k]['value'])} [{fmt(row[k]['low'])}, {fmt(row[k]['high'])}]" for k in ("iqm", "median", "mean", "optimality_gap")]
        print(f"  {name:<36} {row['runs']:>4}  " + " ".join(f"{c:<22}" for c in cells), file=out)
    taus = rl["taus"]
    marks = list(range(0, len(taus), max(1, len(taus) // 5)))
    print("  performance profile, fraction of runs above tau: " + ", ".join(f"tau={fmt(taus[i], 2)}" for i in marks), file=out)
    for name, row in rl["algorithms"].items():
        profile = row["profile"]["value"]
        print(f"  {name:<36} " + "  ".join(f"{fmt(profile[i], 2):>5}" for i in marks), file=out)
    dropped = {k: v for k, v in rl.get("dropped_runs", {}).items() if v}
    if dropped:
        print(f"  left out (a seed missing in some game): {dropped}", file=out)


MARKERS = ("•", "x", "+", "o", "*", "#", "@", "%")


def scatter_choices(study_dir: Path) -> tuple[list[str], list[str]]:
    """(the statistics with a correlation, the axes that may colour a scatter), from the
    aggregate files; both empty before any trial finished."""
    summary = safe_files.read_json(Path(study_dir) / folder.SUMMARY)
    table = safe_files.read_text(Path(study_dir) / folder.TABLE_CSV)
    if not isinstance(summary, dict) or table is None:
        return [], []
    header = next(csv.reader(io.StringIO(table, newline="")), [])
    statistics = [row["statistic"] for row in summary.get("correlations") or []]
    axes = header[3 : header.index("step")] if "step" in header else []
    return statistics, colour_axes(axes)


def check_scatter_options(study_dir: Path, scatter: str | None, colour_by: str | None) -> None:
    """One line naming the valid statistics or axes when ``--scatter`` or ``--colour-by`` names
    something the study does not have."""
    if scatter is None and colour_by is None:
        return
    statistics, axes = scatter_choices(study_dir)
    if not statistics:
        raise ScenarioError(f"--scatter: {study_dir} has no correlations to draw (a falsification study with a finished trial has); drop the option")
    if scatter is not None and scatter != "all":
        choose(scatter, statistics, "--scatter", "statistic")
    if colour_by is not None:
        choose(colour_by, axes, "--colour-by", "axis")


def _scatter(study_dir: Path, summary: dict[str, Any], out, which: str | None = None, colour_by: str | None = None) -> None:
    """Each chosen statistic against plasticity (the points its r is computed on), one colour and
    marker per value of the colouring axis. Without ``which``: the best-tracking statistic, on a
    terminal only."""
    correlations = [r for r in summary["correlations"] if r.get("pearson") is not None]
    if which is None:
        if not (hasattr(out, "isatty") and out.isatty()):
            return
        chosen = correlations[:1]
    elif which == "all":
        chosen = list(summary["correlations"])
    else:
        chosen = [r for r in summary["correlations"] if r["statistic"] == which]
    if not chosen:
        return
    import plotext as plt  # deferred: the terminal plotting library, only when a scatter is drawn

    reader = csv.DictReader(io.StringIO(safe_files.read_text(study_dir / folder.TABLE_CSV) or "", newline=""))
    rows = list(reader)
    header = reader.fieldnames or []
    axes = header[3 : header.index("step")] if "step" in header else []
    colour_by = colour_by or default_colour(summary.get("color_by"), axes)
    coloured = hasattr(out, "isatty") and out.isatty()
    for row in chosen:
        groups = scatter_groups(rows, row["statistic"], summary["target"], colour_by)
        plt.clear_figure()
        plt.theme("clear")  # the terminal's own colours, not a white box
        plt.plotsize(80, 20)
        for index, (label, (xs, ys)) in enumerate(groups.items()):
            plt.scatter(xs, ys, marker=MARKERS[index % len(MARKERS)], label=f"{colour_by}={label}"[:40])
        r = row.get("pearson")
        plt.title(f"{summary['target']} vs {row['statistic']} (r = {fmt(r, 2)}, n = {row['n']})")
        plt.xlabel(row["statistic"])
        if not coloured:
            plt.clear_color()
        print("", file=out)
        print(plt.build(), file=out)
