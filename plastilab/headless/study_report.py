"""``plastilab report STUDY_DIR``: the study's counts and aggregate tables as plain text, and a
terminal scatter of plasticity against the statistic that tracks it best."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from plastilab.studies import folder


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _interval(mean: Any, low: Any, high: Any) -> str:
    if low is None or high is None:
        return _fmt(mean)
    return f"{_fmt(mean)} ± {_fmt((high - low) / 2, 2)}"


def print_study_report(study_dir: str | Path, refresh: bool = False, out=None) -> None:
    out = out or sys.stdout
    study_dir = Path(study_dir)
    if refresh:  # report on a running or resumed study: rebuild from what is on disk now
        from plastilab.studies.aggregate import aggregate_study

        aggregate_study(study_dir)
    try:
        summary = json.loads((study_dir / folder.SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"{study_dir}: no aggregate yet (no trial finished)", file=out)
        return
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.get("counts", {}).items()))
    print(f"study {summary['study']} ({summary['analysis']}): {summary['trials']} trials: {counts}; "
          f"{summary['rows']} trial-checkpoints; plasticity tag {summary.get('target') or '-'}", file=out)
    if summary.get("correlations"):
        print(f"\nEach statistic against {summary['target']} at the probe's checkpoints "
              f"(r with {summary.get('correlation_interval')}), sorted by |Pearson r|:", file=out)
        _correlation_table(summary["correlations"], out)
        if summary.get("correlations_last_checkpoint"):
            print("\nThe same across trials at their last checkpoint only (no training-time trend in it):", file=out)
            _correlation_table(summary["correlations_last_checkpoint"], out)
        _scatter(study_dir, summary, out)
    scaling = summary.get("scaling")
    if scaling and scaling.get("points"):
        print(f"\nScaling against {scaling.get('x')} (mean ± 95% half-width, {summary['interval']}):", file=out)
        print(f"  {'x':>8} {'n':>3}  {'plasticity loss':<20} {'final loss':<20}", file=out)
        for p in scaling["points"]:
            print(f"  {_fmt(p['x']):>8} {p['n']:>3}  {_interval(p['plasticity_mean'], p['plasticity_low'], p['plasticity_high']):<20} "
                  f"{_interval(p['final_loss_mean'], p['final_loss_low'], p['final_loss_high']):<20} ({p.get('final_loss_tag')})", file=out)
    if summary.get("axes"):
        print(f"\nFinal values per axis value (mean ± 95% half-width, {summary['interval']}):", file=out)
        for row in summary["axes"]:
            where = "all trials" if row["axis"] == "(all)" else f"{row['axis']}={row['value']}"
            print(f"  {where:<34} {row['tag']:<26} n={row['n']:<3} {_interval(row['mean'], row['low'], row['high'])}", file=out)
    if summary.get("rl_aggregate"):
        _print_rl_aggregate(summary["rl_aggregate"], out)
    print(f"\nfiles: {', '.join(summary.get('files', []))} in {study_dir}", file=out)


def _correlation_table(rows: list[dict[str, Any]], out) -> None:
    print(f"  {'statistic':<34} {'n':>5}  {'Pearson r [95% CI]':<24} {'Spearman r [95% CI]':<24}", file=out)
    for row in rows:
        p = f"{_fmt(row['pearson'], 2)} [{_fmt(row['pearson_low'], 2)}, {_fmt(row['pearson_high'], 2)}]"
        s = f"{_fmt(row['spearman'], 2)} [{_fmt(row['spearman_low'], 2)}, {_fmt(row['spearman_high'], 2)}]"
        print(f"  {row['statistic']:<34} {row['n']:>5}  {p:<24} {s:<24}", file=out)


def _print_rl_aggregate(rl: dict[str, Any], out) -> None:
    """Agarwal et al. (2021): aggregates of human-normalised scores across games and seeds."""
    print(f"\n{rl['tag']} across {len(rl['games'])} games ({', '.join(rl['games'])}); {rl['interval']}:", file=out)
    print(f"  {'algorithm':<36} {'runs':>4}  {'IQM':<22} {'median':<22} {'mean':<22} {'optimality gap':<22}", file=out)
    for name, row in rl["algorithms"].items():
        cells = [f"{_fmt(row[k]['value'])} [{_fmt(row[k]['low'])}, {_fmt(row[k]['high'])}]" for k in ("iqm", "median", "mean", "optimality_gap")]
        print(f"  {name:<36} {row['runs']:>4}  " + " ".join(f"{c:<22}" for c in cells), file=out)
    taus = rl["taus"]
    marks = list(range(0, len(taus), max(1, len(taus) // 5)))
    print("  performance profile, fraction of runs above tau: " + ", ".join(f"tau={_fmt(taus[i], 2)}" for i in marks), file=out)
    for name, row in rl["algorithms"].items():
        profile = row["profile"]["value"]
        print(f"  {name:<36} " + "  ".join(f"{_fmt(profile[i], 2):>5}" for i in marks), file=out)
    dropped = {k: v for k, v in rl.get("dropped_runs", {}).items() if v}
    if dropped:
        print(f"  left out (a seed missing in some game): {dropped}", file=out)


def _scatter(study_dir: Path, summary: dict[str, Any], out) -> None:
    """The best-correlated statistic against plasticity, one colour per reward variant or axis."""
    if not (hasattr(out, "isatty") and out.isatty()):
        return
    best = next((r for r in summary["correlations"] if r.get("pearson") is not None), None)
    if best is None:
        return
    import plotext as plt

    with open(study_dir / folder.TABLE_CSV, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    color_by = summary.get("color_by") or next((c for c in (rows[0].keys() if rows else []) if c not in ("trial", "series", "seed", "step") and "/" not in c), "series")
    groups: dict[str, tuple[list, list]] = {}
    for row in rows:
        x, y = row.get(best["statistic"]), row.get(summary["target"])
        if x and y:
            xs, ys = groups.setdefault(row.get(color_by, ""), ([], []))
            xs.append(float(x))
            ys.append(float(y))
    plt.clear_figure()
    plt.theme("clear")  # the terminal's own colours, not a white box
    plt.plotsize(80, 20)
    for label, (xs, ys) in groups.items():
        plt.scatter(xs, ys, label=label[:24])
    plt.title(f"{summary['target']} vs {best['statistic']} (r = {best['pearson']:.2f})")
    print(plt.build(), file=out)
