"""``plastilab report`` on a run folder whose metrics.jsonl has 2 million lines (~250 MB).

Each measurement runs in a fresh process (the report as ``plastilab report`` runs it, its output
into a buffer) and records wall time, CPU time and peak resident memory (``ru_maxrss``). The
baseline, measured in the same run on the same file, is the floor of any reader: a loop that
``json.loads`` every line and keeps nothing. Two cases: a run still being written (no
summary.json: the summary is rebuilt from metrics) and a finished one (with summary.json).

Prints each case and the ratios (targets, at the default size, where fixed costs such as
drawing the chart no longer count: time <= 2x the baseline parse; peak memory at most the
baseline's plus 100 MB, whatever the file's size).

    .venv/bin/python bench/bench_report_large_metrics.py [--lines 2000000] [--source DIR]

A quicker look: ``--lines 200000``. ``--source DIR`` runs the report from another checkout of
plastilab (e.g. an older commit, exported with ``git archive``), for before/after figures on
one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SERIES = ("adam-default", "adam-beta2", "adam-eps", "adam-beta2-eps", "sgd")
TAGS = ("train/loss", "train/accuracy", "units/dead_fraction", "weights/norm")
STEPS_PER_TASK = 2000
LOG_EVERY = 5
TIME_RATIO_TARGET = 2.0  # report time / parse-only time
EXTRA_MB_TARGET = 100  # report peak memory above the parse-only baseline's

MEASURE = r"""
import io, json, os, resource, sys, time
source = os.environ.get("PLASTILAB_BENCH_SOURCE")
if source:  # another checkout: ahead of the editable install's import hook, which beats PYTHONPATH
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
    sys.path.insert(0, source)
if sys.argv[1] == "report":  # imported before the clock starts: the work is what is timed
    from rich.console import Console
    from plastilab.headless.report import print_report
start, cpu = time.perf_counter(), time.process_time()
if sys.argv[1] == "report":
    print_report(sys.argv[2], Console(file=io.StringIO(), width=120))
else:
    with open(sys.argv[2] + "/metrics.jsonl", "rb") as f:
        for line in f:
            json.loads(line)
import plastilab
assert not source or plastilab.__file__.startswith(source), plastilab.__file__
print(json.dumps({"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_run(run_dir: Path, n_lines: int, with_summary: bool) -> None:
    """A plausible Adam run: every LOG_EVERY steps each series logs TAGS; a task boundary
    (``task/index`` and ``task/final_loss``) every STEPS_PER_TASK steps."""
    run_dir.mkdir(parents=True)
    rng = random.Random(0)
    written = 0
    step = 0
    with open(run_dir / "metrics.jsonl", "w", encoding="utf-8") as f:
        while written < n_lines:
            lines = []
            for series in SERIES:
                if step % STEPS_PER_TASK == 0:
                    lines.append({"step": step, "series": series, "tag": "task/index", "value": float(step // STEPS_PER_TASK), "wall_time": step * 0.01})
                    if step:
                        lines.append({"step": step, "series": series, "tag": "task/final_loss", "value": rng.random(), "wall_time": step * 0.01})
                for tag in TAGS:
                    lines.append({"step": step, "series": series, "tag": tag, "value": rng.random() * 2.3, "wall_time": step * 0.01})
            f.write("".join(json.dumps(r) + "\n" for r in lines))
            written += len(lines)
            step += LOG_EVERY
    (run_dir / "meta.json").write_text(json.dumps({"scenario": "bench", "kind": "adam_instability", "series": list(SERIES), "total_steps": step}))
    (run_dir / "status.json").write_text(json.dumps({"state": "finished", "last_step": step, "pid": 0}))
    if with_summary:
        from plastilab.rundir.reader import RunFolder

        summary = RunFolder.open(run_dir).summary_or_rebuilt()
        (run_dir / "summary.json").write_text(json.dumps(summary))


def measure(what: str, run_dir: Path, source: Path | None) -> dict:
    env = dict(os.environ)
    env.pop("PLASTILAB_BENCH_SOURCE", None)
    if source is not None:
        env["PLASTILAB_BENCH_SOURCE"] = str(source.resolve())
    out = subprocess.run([sys.executable, "-c", MEASURE, what, str(run_dir)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--source", type=Path, default=None, help="another plastilab checkout to measure")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="plastilab-bench-report-"))
    try:
        rows = []
        for label, with_summary in (("no summary.json (rebuilt)", False), ("with summary.json", True)):
            run_dir = tmp / ("with" if with_summary else "without")
            write_run(run_dir, args.lines, with_summary)
            size_mb = (run_dir / "metrics.jsonl").stat().st_size / 1e6
            base = measure("parse", run_dir, None)
            report = measure("report", run_dir, args.source)
            rows.append((label, size_mb, base, report))
        print(f"report on {args.lines:,} metrics lines" + (f" (source: {args.source})" if args.source else ""))
        for label, size_mb, base, report in rows:
            ratio, extra = report["wall_s"] / base["wall_s"], report["peak_mb"] - base["peak_mb"]
            print(
                f"  {label:<27} file {size_mb:.0f} MB | report {report['wall_s']:.1f} s, peak {report['peak_mb']:.0f} MB"
                f" | parse-only baseline {base['wall_s']:.1f} s, peak {base['peak_mb']:.0f} MB"
                f" | ratio time {ratio:.2f}x (target <= {TIME_RATIO_TARGET}), memory +{extra:.0f} MB (target <= {EXTRA_MB_TARGET})"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
